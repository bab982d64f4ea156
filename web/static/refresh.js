// A running job's page reloads itself until the job is done.
setTimeout(() => window.location.reload(), 2000);
