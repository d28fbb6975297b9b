// SECRET_AS_QUERY_PARAM: /secret?secret=<webhookSecret>
exports = function () {
  return { message: "You know the secret" };
};
