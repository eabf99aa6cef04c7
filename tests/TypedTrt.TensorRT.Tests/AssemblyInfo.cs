// The fake shim keeps process-wide state (call log, injected failures, loaded version, logger): one test at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
