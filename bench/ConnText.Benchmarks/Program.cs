using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/ConnText.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
