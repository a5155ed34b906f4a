using PgWarden.Bench;

// The side-by-side benchmark of PgWarden and Patroni 3.0.2 (issue 6). bench/run.sh installs, builds and runs it.
BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"Error: {e.Message}");
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}
if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine(BenchOptions.Usage);
    return 0;
}
if (!Environment.IsPrivilegedProcess)
{
    Console.Error.WriteLine("Error: the benchmark must run as root: it creates one OS user per node and runs the agents as them");
    return 2;
}

using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
var started = DateTimeOffset.UtcNow;
var runs = new List<Measurements>();
foreach (var agent in options.Agents)
{
    if (cts.IsCancellationRequested) break;
    Console.WriteLine($"=== {agent}");
    try
    {
        runs.Add(await new AgentRun(options, agent, Console.Out).RunAsync(cts.Token));
    }
    catch (OperationCanceledException)
    {
        Console.WriteLine("interrupted; everything started was stopped");
    }
}
var (markdown, json) = Report.Render(options, runs, started, Clock.Now);
Directory.CreateDirectory(options.ResultsDir);
await File.WriteAllTextAsync(Path.Combine(options.ResultsDir, "latest.md"), markdown);
await File.WriteAllTextAsync(Path.Combine(options.ResultsDir, "latest.json"), json);
Console.WriteLine();
Console.WriteLine(markdown);
Console.WriteLine($"written: {Path.Combine(options.ResultsDir, "latest.md")} and latest.json");
return 0;
