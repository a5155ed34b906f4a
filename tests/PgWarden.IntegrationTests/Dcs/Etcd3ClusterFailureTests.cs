using System.Diagnostics;
using PgWarden.Dcs;
using PgWarden.IntegrationTests.Infrastructure;
using static PgWarden.IntegrationTests.Dcs.EtcdTestSupport;

namespace PgWarden.IntegrationTests.Dcs;

/// <summary>Each test starts its own 3-member etcd on 127.0.0.21-23 and breaks it in one way.</summary>
[Collection(EtcdCollection.Name)]
public sealed class Etcd3ClusterFailureTests
{
    private static readonly string[] Ips = ["127.0.0.21", "127.0.0.22", "127.0.0.23"];

    private static Task<EtcdCluster> StartAsync() => EtcdCluster.StartAsync(Ips, Path.GetTempPath(), CancellationToken.None);

    [Fact]
    public async Task Client_survives_the_loss_of_the_member_it_uses()
    {
        await using var etcd = await StartAsync();
        // Only one endpoint configured: the other two come from member discovery.
        using var client = Client([etcd.Endpoints[0]], retryTimeoutSeconds: 3);
        var scope = NewScope();
        await using var node = NewDcs(client, scope, "n1", watch: true, ttl: 5, retryTimeout: 3);
        Assert.True(await node.AttemptToAcquireLeaderAsync(default));
        Assert.Equal(3, client.Endpoints.Count);

        var used = client.CurrentEndpoint;
        etcd.Kill(etcd.Endpoints.ToList().FindIndex(e => used.EndsWith(e, StringComparison.Ordinal)));
        // Surviving means keeping the lock: a renewal succeeds on another member before the lease (ttl 5 s) runs
        // out. The first call may time out when the killed member was etcd's leader and an election is running.
        var leader = (await node.GetClusterAsync(default)).Leader;
        await WaitUntilAsync(async () =>
        {
            try { return await node.UpdateLeaderAsync(leader, default); }
            catch (DcsException) { return false; }
        }, TimeSpan.FromSeconds(4), "a renewal through another member before the lease expires");
        await node.TouchMemberAsync(Member("n1"), default);
        Assert.Equal("n1", (await node.GetClusterAsync(default)).Leader?.Name);
        Assert.NotEqual(used, client.CurrentEndpoint);
        await WaitUntilAsync(async () => (await node.GetClusterAsync(default)).FindMember("n1") is not null,
            TimeSpan.FromSeconds(5), "the watch to come back on another member");
    }

    [Fact]
    public async Task A_hung_member_is_a_timeout_and_the_client_moves_on()
    {
        await using var etcd = await StartAsync();
        etcd.Stop(0);
        try
        {
            using var only = Client([etcd.Endpoints[0]], retryTimeoutSeconds: 1.5, discover: false);
            var sw = Stopwatch.StartNew();
            var e = await Assert.ThrowsAsync<DcsException>(() => only.GetAsync("/x", false, default));
            Assert.Equal(DcsErrorKind.Timeout, e.Kind);
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(2.5), $"took {sw.Elapsed}");

            using var all = Client(etcd.Endpoints, retryTimeoutSeconds: 3, discover: false);
            var scope = NewScope();
            await using var node = NewDcs(all, scope, "n1", watch: false, ttl: 5, retryTimeout: 3);
            sw.Restart();
            Assert.True(await node.AttemptToAcquireLeaderAsync(default));
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(3), $"took {sw.Elapsed}");
        }
        finally
        {
            etcd.Cont(0);
        }
    }

    [Fact]
    public async Task A_member_without_quorum_reports_no_leader()
    {
        await using var etcd = await StartAsync();
        etcd.Kill(0);
        etcd.Kill(1);
        using var client = Client([etcd.Endpoints[2]], retryTimeoutSeconds: 3, discover: false);
        // Leader loss is noticed after an election timeout (1 s here).
        await WaitUntilAsync(async () =>
        {
            try
            {
                await client.LeaseGrantAsync(5, default);
                return false;
            }
            catch (DcsException e) when (e.Kind == DcsErrorKind.NoLeader)
            {
                return true;
            }
        }, TimeSpan.FromSeconds(10), "a NoLeader error from lease grant");
        var put = await Assert.ThrowsAsync<DcsException>(() => client.PutAsync("/x", "y", 0, default));
        Assert.Equal(DcsErrorKind.NoLeader, put.Kind);
        var keepalive = await Assert.ThrowsAsync<DcsException>(() => client.LeaseKeepAliveAsync(1, default));
        Assert.Equal(DcsErrorKind.NoLeader, keepalive.Kind);
        // A serializable read is still served by the lone member.
        Assert.Empty((await client.GetPrefixAsync("/service/", serializable: true, default)).Kvs);
    }

    [Fact]
    public async Task Authentication_wrong_password_fails_and_a_lost_token_is_renewed()
    {
        await using var etcd = await EtcdCluster.StartAsync(["127.0.0.22"], Path.GetTempPath(), CancellationToken.None);
        await RunEtcdctlAsync(etcd.Endpoints[0], "user", "add", "root:secret");
        await RunEtcdctlAsync(etcd.Endpoints[0], "auth", "enable");

        using var wrong = Client(etcd.Endpoints, user: "root", password: "bad");
        var e = await Assert.ThrowsAsync<DcsException>(() => wrong.GetAsync("/x", false, default));
        Assert.Equal(DcsErrorKind.AuthFailed, e.Kind);

        using var none = Client(etcd.Endpoints);
        var n = await Assert.ThrowsAsync<DcsException>(() => none.GetAsync("/x", false, default));
        Assert.Equal(DcsErrorKind.AuthFailed, n.Kind);

        using var right = Client(etcd.Endpoints, user: "root", password: "secret");
        await right.PutAsync("/service/auth/k", "v", 0, default);
        // Simple tokens live in the member's memory: a restart invalidates ours ("invalid auth token").
        await etcd.RestartAsync(0, default);
        await etcd.WaitHealthyAsync(TimeSpan.FromSeconds(10), default);
        await WaitUntilAsync(async () =>
        {
            try
            {
                return (await right.GetAsync("/service/auth/k", false, default)).Kvs.Single().Value == "v";
            }
            catch (DcsException ex) when (ex.Kind is DcsErrorKind.ConnectionRefused or DcsErrorKind.Timeout or DcsErrorKind.NoLeader)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(10), "a read with a renewed token");
    }

    private static async Task RunEtcdctlAsync(string endpoint, params string[] args)
    {
        var psi = new ProcessStartInfo("etcdctl") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("--endpoints=" + endpoint);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["ETCDCTL_API"] = "3";
        using var p = Process.Start(psi)!;
        var stderr = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 0, $"etcdctl {string.Join(' ', args)}: {stderr}");
    }
}
