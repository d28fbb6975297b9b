// respond_result is false: the response object says everything.
exports = function (request, response) {
  response.setStatusCode(302).setHeader("Location", "hello?name=redirected");
};
