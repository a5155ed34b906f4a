namespace PgWarden;

/// <summary>The single entry point: agent, control commands and the lab share one executable.</summary>
public static class Cli
{
    public static Task<int> Run(string[] args)
    {
        Console.Error.WriteLine("pgwarden: not wired yet");
        return Task.FromResult(2);
    }
}
