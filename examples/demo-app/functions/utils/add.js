// Private: callable from other functions only.
exports = function (a, b) {
  return Number(a) + Number(b);
};
