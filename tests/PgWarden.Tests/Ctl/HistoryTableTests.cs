using PgWarden.Api;
using PgWarden.Ctl;
using PgWarden.Dcs;
using PgWarden.Tests.Golden;

namespace PgWarden.Tests.Ctl;

public class HistoryTableTests
{
    private static readonly HistoryEntry[] AfterSwitchover =
        [new(1, 67302224, "no recovery target specified", "2026-11-22T03:44:28.544242+00:00", "node1")];

    [Fact]
    public void Empty_history_matches_recorded_patronictl() =>
        Assert.Equal(GoldenFile.CtlOutput("patronictl-before-switchover.txt", "patronictl history"), HistoryTable.Render([]));

    [Fact]
    public void History_after_switchover_matches_recorded_patronictl() =>
        Assert.Equal(GoldenFile.CtlOutput("patronictl-switchover.txt", "patronictl history"), HistoryTable.Render(AfterSwitchover));

    [Fact]
    public void Rest_history_matches_recorded_body() =>
        Assert.Equal(GoldenFile.RestBody("rest-history-after-switchover.txt", "GET /history on new leader"),
            InfoEndpoints.HistoryJson(AfterSwitchover));

    [Fact]
    public void Missing_history_is_an_empty_list() => Assert.Equal("[]", InfoEndpoints.HistoryJson(null));

    [Fact]
    public void Short_lines_are_padded_and_other_formats_work()
    {
        HistoryEntry[] history = [new(1, 100, "old", null, null), .. AfterSwitchover];
        Assert.Equal(
            "[{\"TL\": 1, \"LSN\": 100, \"Reason\": \"old\", \"Timestamp\": \"\", \"New Leader\": \"\"}, "
            + "{\"TL\": 1, \"LSN\": 67302224, \"Reason\": \"no recovery target specified\", \"Timestamp\": \"2026-11-22T03:44:28.544242+00:00\", \"New Leader\": \"node1\"}]\n",
            HistoryTable.Render(history, "json"));
        Assert.Equal("TL\tLSN\tReason\tTimestamp\tNew Leader\n1\t100\told\t\t\n1\t67302224\tno recovery target specified\t2026-11-22T03:44:28.544242+00:00\tnode1\n",
            HistoryTable.Render(history, "tsv"));
        Assert.StartsWith("- LSN: 100\n  New Leader: ''\n  Reason: old\n  TL: 1\n  Timestamp: ''\n- LSN: 67302224\n",
            HistoryTable.Render(history, "yaml"), StringComparison.Ordinal);
        Assert.Contains("  Timestamp: '2026-11-22T03:44:28.544242+00:00'\n", HistoryTable.Render(history, "yaml"), StringComparison.Ordinal);
    }
}
