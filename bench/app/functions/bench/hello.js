exports = function () {
  return { hello: "world" };
};
