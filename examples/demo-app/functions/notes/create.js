// POST /notes {"text": "..."} -> {"insertedId": "..."}
exports = async function ({ body }) {
  const { text } = JSON.parse(body.text());
  const notes = context.services.get("mongodb-atlas").db("demo").collection("notes");
  const result = await notes.insertOne({ text: String(text), createdAt: new Date() });
  return { insertedId: result.insertedId };
};
