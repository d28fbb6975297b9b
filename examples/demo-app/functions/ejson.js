// return_type EJSON: canonical Extended JSON keeps the BSON types.
exports = function () {
  return {
    id: new BSON.ObjectId("5d505646cf6d4fe581014ab2"),
    at: new Date("2024-01-02T03:04:05.678Z"),
    price: BSON.Decimal128.fromString("19.99"),
  };
};
