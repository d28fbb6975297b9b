exports = function (n) {
  return n + 1;
};
