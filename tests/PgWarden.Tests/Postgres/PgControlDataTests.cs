using PgWarden.Postgres;

namespace PgWarden.Tests.Postgres;

public class PgControlDataTests
{
    // Captured from `LC_ALL=C pg_controldata` of a PostgreSQL 15.18 cluster (trimmed tail).
    private const string Sample = """
        pg_control version number:            1300
        Catalog version number:               202209061
        Database system identifier:           7710840799488382881
        Database cluster state:               in archive recovery
        pg_control last modified:             Sun Nov 22 04:00:26 2026
        Latest checkpoint location:           0/1500718
        Latest checkpoint's REDO location:    0/1500718
        Latest checkpoint's REDO WAL file:    000000010000000000000001
        Latest checkpoint's TimeLineID:       3
        Latest checkpoint's PrevTimeLineID:   2
        Latest checkpoint's full_page_writes: on
        Latest checkpoint's NextXID:          0:724
        Latest checkpoint's oldestCommitTsXid:0
        Time of latest checkpoint:            Sun Nov 22 04:00:26 2026
        Minimum recovery ending location:     0/0
        wal_level setting:                    replica
        wal_log_hints setting:                off
        max_connections setting:              100
        max_worker_processes setting:         8
        max_wal_senders setting:              10
        max_prepared_xacts setting:           0
        max_locks_per_xact setting:           64
        track_commit_timestamp setting:       off
        Data page checksum version:           0
        Mock authentication nonce:            2936a48b978611168d8b3f53e2a02da04e93c846260be86bc8998c38813e615f
        """;

    [Fact]
    public void Reads_identity_state_timeline_and_checkpoint()
    {
        var info = PgControlData.ToDataDirectoryInfo(Sample, standbySignal: true);

        Assert.True(info.HasData);
        Assert.Equal("7710840799488382881", info.SystemIdentifier);
        Assert.Equal("in archive recovery", info.ClusterState);
        Assert.Equal(3, info.TimelineId);
        Assert.Equal(0x1500718L, info.CheckpointLsn);
        Assert.True(info.IsStandbyConfigured);
        Assert.Equal("100", info.Settings["max_connections"]);
        Assert.Equal("off", info.Settings["wal_log_hints"]);
        Assert.Equal("0", info.Settings["max_prepared_xacts"]);
    }

    [Fact]
    public void Labels_with_no_space_after_colon_still_parse()
    {
        var lines = PgControlData.ParseLines(Sample);
        Assert.Equal("0", lines["Latest checkpoint's oldestCommitTsXid"]);
        Assert.Equal("0:724", lines["Latest checkpoint's NextXID"]);
    }
}
