using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/ConnText.Benchmarks -- --filter '*'
// (Not typeof(Program): the referenced server has a Program class of its own.)
BenchmarkSwitcher.FromAssembly(typeof(ConnText.Benchmarks.HubSerializationBenchmarks).Assembly).Run(args);
