exports = function (request) {
  return JSON.parse(request.body.text());
};
