exports = function () {
  return { ok: true };
};
