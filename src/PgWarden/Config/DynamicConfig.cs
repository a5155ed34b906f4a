using System.Text.Json.Nodes;

namespace PgWarden.Config;

/// <summary>
/// The dynamic configuration (the DCS config key), parsed and validated. Raw keeps the whole JSON object so
/// keys PgWarden does not model survive a round trip through edit-config untouched.
/// </summary>
public sealed record DynamicConfig
{
    public int Ttl { get; init; } = 30;
    public int LoopWait { get; init; } = 10;
    public int RetryTimeout { get; init; } = 10;
    public long MaximumLagOnFailover { get; init; } = 1048576;
    public int PrimaryStartTimeout { get; init; } = 300;
    public int PrimaryStopTimeout { get; init; }
    public bool Pause { get; init; }
    public bool CheckTimeline { get; init; }
    public string SynchronousMode { get; init; } = "off";
    public bool SynchronousModeStrict { get; init; }
    public int SynchronousNodeCount { get; init; } = 1;
    public bool FailsafeMode { get; init; }
    public int MaxTimelinesHistory { get; init; }
    public bool UsePgRewind { get; init; }
    public bool UseSlots { get; init; } = true;
    /// <summary>postgresql.parameters from the DCS, values as strings.</summary>
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<string> PgHba { get; init; } = [];
    public JsonObject Raw { get; init; } = new();

    public static readonly DynamicConfig Default = new();
}
