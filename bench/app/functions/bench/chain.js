// (d): an endpoint that calls three other functions through context.functions.execute.
exports = async function () {
  const a = await context.functions.execute("bench/step", 1);
  const b = await context.functions.execute("bench/step", a);
  const c = await context.functions.execute("bench/step", b);
  return { hello: "world", steps: c };
};
