exports = function (payload) {
  if (payload.pin !== '1234') throw new Error('wrong pin');
  return { id: 'fn-' + payload.user, name: 'Function ' + payload.user };
};
