exports = function () {
  // Changes its own context.user: the next request of the same session must not see it.
  const before = { id: context.user.id, email: context.user.data.email, identities: context.user.identities.length };
  context.user.data.email = 'changed@example.com';
  context.user.identities.push({ id: 'x', provider_type: 'fake' });
  return before;
};
