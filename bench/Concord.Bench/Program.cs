using BenchmarkDotNet.Running;

// Every suite in this assembly; pick with --filter, e.g. `--filter *Checksum*`, or list with `--list flat`.
BenchmarkSwitcher.FromAssembly(typeof(Concord.Bench.ChecksumThroughput).Assembly).Run(args);
