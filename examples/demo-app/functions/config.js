// A value, the environment tag and an environment value.
exports = function () {
  return {
    appName: context.values.get("appName"),
    limits: context.values.get("limits"),
    environment: context.environment.tag,
    greeting: context.environment.values.greeting,
  };
};
