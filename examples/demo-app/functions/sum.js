// POST /sum {"a": 1, "b": 2} -> {"sum": 3}, through the private function utils/add.
exports = async function ({ body }) {
  const { a, b } = JSON.parse(body.text());
  const sum = await context.functions.execute("utils/add", a, b);
  return { sum };
};
