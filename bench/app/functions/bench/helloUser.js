// (g)/(h): the hello endpoint, but with application authentication (the caller must be a user).
exports = function () {
  return { hello: "world" };
};
