using System.Text.Json.Nodes;
using PgWarden.Dcs;

namespace PgWarden.Ctl;

/// <summary>patronictl 3.0.2's `history`: TL, LSN, Reason, Timestamp, New Leader; short lines padded with "".</summary>
public static class HistoryTable
{
    private static readonly string[] Columns = ["TL", "LSN", "Reason", "Timestamp", "New Leader"];

    /// <summary>format: pretty | json | yaml | tsv. The result ends with a newline.</summary>
    public static string Render(IReadOnlyList<HistoryEntry>? history, string format = "pretty")
    {
        format = format.ToLowerInvariant();
        if (format is not ("pretty" or "json" or "yaml" or "yml" or "tsv"))
            throw new ArgumentException($"Unknown output format '{format}': expected pretty, json, yaml or tsv.", nameof(format));
        var rows = (history ?? []).Select(h => new JsonNode?[]
        {
            h.Timeline, h.SwitchLsn, h.Reason, h.Timestamp ?? "", h.NewLeader ?? "",
        }).ToList();
        return Output.Print(Columns, rows, ["TL", "LSN"], format, title: null);
    }
}
