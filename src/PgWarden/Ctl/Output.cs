using System.Text;
using System.Text.Json.Nodes;
using PgWarden.Api;

namespace PgWarden.Ctl;

/// <summary>patronictl's print_output: one table in pretty/topology, tsv, json or yaml form.</summary>
public static class Output
{
    /// <summary>
    /// title non-null means a cluster listing: empty cells are left out of json/yaml objects, Tags cells become
    /// YAML text, and pretty output drops the Cluster column and writes the title into the top border.
    /// The result ends with a newline, as click.echo prints it.
    /// </summary>
    public static string Print(IReadOnlyList<string> columns, IReadOnlyList<JsonNode?[]> rows, IReadOnlyCollection<string> rightAligned,
        string format, string? title)
    {
        if (format is "json" or "yaml" or "yml")
        {
            var elements = new JsonArray();
            foreach (var row in rows)
            {
                var o = new JsonObject();
                for (var i = 0; i < columns.Count; i++)
                {
                    if (title is not null && ClusterTable.Str(row[i]).Length == 0) continue;
                    o[columns[i]] = row[i]?.DeepClone();
                }
                elements.Add((JsonNode)o); // Add(JsonNode), not the reflection-based generic Add<T>
            }
            return format == "json" ? PythonJson.Serialize(elements) + "\n" : PythonYaml.Dump(elements) + "\n";
        }

        var listCluster = title is not null && columns.Count > 0 && columns[0] == "Cluster";
        var cells = rows.Select(r => r.Select((c, i) =>
            listCluster && columns[i] == "Tags" && c is JsonObject or JsonArray
                ? PythonYaml.Dump(c, flowStyle: format == "tsv").Trim()
                : ClusterTable.Str(c)).ToArray()).ToList();
        var shownColumns = columns.ToList();
        if (listCluster && format != "tsv")
        {
            shownColumns.RemoveAt(0);
            cells = cells.Select(r => r[1..]).ToList();
        }

        if (format == "tsv")
        {
            var sb = new StringBuilder();
            foreach (var r in new[] { shownColumns.ToArray() }.Concat(cells)) sb.Append(string.Join('\t', r)).Append('\n');
            return sb.ToString();
        }

        var table = new PrettyTable(shownColumns, title);
        foreach (var c in rightAligned) table.AlignRight(c);
        foreach (var r in cells) table.AddRow(r);
        return table + "\n";
    }
}
