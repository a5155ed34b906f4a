// Every cluster test binds the same loopback addresses (127.0.0.11-13): run them one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
