using ConnText.LoadTest;

// Load generator for the realtime hub (docs/performance.md). Commands:
//   seed    bench-only shortcut: users, personal access tokens and rooms written straight into the database
//   fanout  N connections in rooms of M, a ladder of send rates; delivered/s, reach, delivery latency
//   idle    opens connections and holds them (the script reads the server's memory meanwhile)
//   rest    REST scenarios (send, history, conversation list, login) at target rates, open loop
//   logins  a login storm's sign-ins, from a process of their own (started by fanout --storm-rate)
//   summarize  one Markdown report (with ratios to the Node.js baseline) from a run's JSON files
// Run without arguments for the options of each.
if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.WriteLine(Usage.Text);
    return 0;
}

try
{
    var options = CommandLine.Parse(args.AsSpan(1));
    using var stop = new CancellationTokenSource();
    Console.CancelKeyPress += (_, e) =>
    {
        e.Cancel = true;
        stop.Cancel();
    };
    return args[0] switch
    {
        "seed" => await Seeder.RunAsync(options, stop.Token),
        "fanout" => await FanOut.RunAsync(options, stop.Token),
        "idle" => await Idle.RunAsync(options, stop.Token),
        "rest" => await Rest.RunAsync(options, stop.Token),
        "logins" => await LoginStorms.ServeAsync(options, stop.Token),
        "summarize" => await Summary.RunAsync(options, stop.Token),
        _ => throw new ArgumentException($"unknown command '{args[0]}'"),
    };
}
catch (ArgumentException ex)
{
    await Console.Error.WriteLineAsync($"error: {ex.Message}\n\n{Usage.Text}");
    return 2;
}
