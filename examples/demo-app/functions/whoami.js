// Any method: what the server saw of the request.
exports = function () {
  return {
    method: context.request.httpMethod,
    headers: context.request.requestHeaders,
  };
};
