exports = function () {
  return { id: context.user.id, custom_data: context.user.custom_data };
};
