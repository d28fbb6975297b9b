exports = async function (user) {
  const profiles = context.services.get('mongodb-atlas').db('app').collection('profiles');
  await profiles.insertOne({ userId: user.id, plan: 'free', providers: user.identities.map((i) => i.provider_type) });
};
