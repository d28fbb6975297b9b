// VERIFY_PAYLOAD: only requests signed with the webhookSecret secret reach this function.
// Endpoint-Signature: sha256=<hex HMAC-SHA256 of the raw body>
exports = function ({ body }) {
  const event = JSON.parse(body.text());
  return { received: event, verified: true };
};
