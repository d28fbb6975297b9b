// GET /hello?name=Ada -> {"message": "Hello, Ada"}
exports = function ({ query }) {
  return { message: "Hello, " + (query.name || "world") };
};
