exports = function (a, b) {
  return { sum: a + b, caller: context.user.id };
};
