// Application authentication (no run_as_* in functions/config.json): the caller must send
// credentials (Authorization: Bearer <access token>, apiKey, or email + password headers).
exports = function () {
  return { id: context.user.id, type: context.user.type, data: context.user.data };
};
