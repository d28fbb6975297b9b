// POST /echo with a JSON body -> the same JSON back.
exports = function ({ body }) {
  return JSON.parse(body.text());
};
