using PgWarden.Postgres;

namespace PgWarden.Tests.Postgres;

public class ProbeQueryTests
{
    [Fact]
    public void Replication_rows_are_read_from_json_agg()
    {
        var rows = ProbeQuery.ParseReplication("""
            [{"usename":"replicator","application_name":"node2","client_addr":"127.0.0.1","state":"streaming","sync_state":"async","sync_priority":0},
             {"usename":"replicator","application_name":"node3","client_addr":null,"state":"catchup","sync_state":"sync","sync_priority":1}]
            """);
        Assert.Equal([
            new ReplicationRow("replicator", "node2", "127.0.0.1", "streaming", "async", 0),
            new ReplicationRow("replicator", "node3", null, "catchup", "sync", 1),
        ], rows);
    }
}
