// Runs in every jest worker before its test files: tests of one worker share a database and a
// Redis database index of their own, so workers never see each other's data.
const worker = Number(process.env.JEST_WORKER_ID ?? '1');
process.env.TEST_WORKER = String(worker);
