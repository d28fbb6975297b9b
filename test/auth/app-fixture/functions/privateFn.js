exports = function () {
  return 'private';
};
