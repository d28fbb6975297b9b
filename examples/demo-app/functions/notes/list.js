// GET /notes -> newest first.
exports = async function () {
  const notes = context.services.get("mongodb-atlas").db("demo").collection("notes");
  return notes.find({}, { text: 1, createdAt: 1 }).sort({ createdAt: -1 }).toArray();
};
