exports = async function (plan) {
  const profiles = context.services.get('mongodb-atlas').db('app').collection('profiles');
  await profiles.updateOne({ userId: context.user.id }, { $set: { plan } });
  return plan;
};
