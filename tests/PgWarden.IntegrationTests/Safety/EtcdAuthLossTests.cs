using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using PgWarden.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace PgWarden.IntegrationTests.Safety;

/// <summary>
/// The agents' etcd credentials stop working while they run, against a real etcd with authentication switched on under
/// them: the failure is told apart from an unreachable etcd (kind AuthFailed, naming the user, never the password) and
/// handled like one: with failsafe_mode the primary keeps running while every member confirms it; without it the
/// primary demotes. etcd 3.4 serves lease keepalives without a permission check and the watch keeps streaming, so
/// until etcd restarts only the agents' writes fail; the test restarts etcd to take the reads away as well.
/// </summary>
public sealed class EtcdAuthLossTests(ITestOutputHelper output)
{
    private const string RootPassword = "root-pw-Ha31";
    private const string User = "pgwarden";
    private const string UserPassword = "pgw-pw-Kd77";

    private static async Task<string> EtcdctlAsync(string endpoint, string? user, string? stdin, params string[] args)
    {
        var psi = new ProcessStartInfo("etcdctl") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        psi.ArgumentList.Add("--endpoints=" + endpoint);
        if (user is not null) psi.ArgumentList.Add("--user=" + user);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["ETCDCTL_API"] = "3";
        using var p = Process.Start(psi)!;
        if (stdin is not null) await p.StandardInput.WriteLineAsync(stdin);
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 0, $"etcdctl {string.Join(' ', args)}: {stderr}");
        return await stdout;
    }

    private static Task<string> AsRootAsync(string endpoint, params string[] args) =>
        EtcdctlAsync(endpoint, "root:" + RootPassword, null, args);

    /// <summary>What etcd's gateway answers to a range call with a fresh token of the given user (status, body).</summary>
    private static async Task<(int Status, string Body)> RawRangeAsync(string endpoint, string user, string password)
    {
        using var http = new HttpClient();
        async Task<(int, string)> Post(string path, string json, string? token)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"http://{endpoint}/v3{path}") { Content = new StringContent(json, Encoding.UTF8) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            if (token is not null) request.Headers.TryAddWithoutValidation("Authorization", token);
            using var response = await http.SendAsync(request);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        var (status, body) = await Post("/auth/authenticate", $$"""{"name":"{{user}}","password":"{{password}}"}""", null);
        if (status != 200) return (status, body);
        var token = JsonNode.Parse(body)!["token"]!.GetValue<string>();
        return await Post("/kv/range", """{"key":"L3NlcnZpY2Uv","range_end":"L3NlcnZpY2Uw"}""", token);
    }

    /// <summary>Waits until the node's log, after the given offset, holds text count times.</summary>
    private static Task WaitForLogAsync(ClusterNode node, int from, string text, int count, TimeSpan deadline) =>
        Wait.UntilAsync(() =>
        {
            var tail = node.Agent!.Output[Math.Min(from, node.Agent.Output.Length)..];
            var n = 0;
            for (var i = tail.IndexOf(text, StringComparison.Ordinal); i >= 0; i = tail.IndexOf(text, i + 1, StringComparison.Ordinal)) n++;
            return n >= count;
        }, deadline, $"{node.Name} to log \"{text}\" {count} time(s)");

    [Fact]
    public async Task Revoked_or_deleted_credentials_are_an_auth_failure_handled_like_an_unreachable_dcs()
    {
        await using var cluster = await AgentCluster.StartAsync("itau", 2, startAgents: false,
            extraDcs: new Dictionary<string, string> { ["failsafe_mode"] = "true" });
        using var dump = new LogDump(output, cluster);
        var endpoint = cluster.Etcd.Endpoints[0];
        foreach (var node in cluster.Nodes)
        {
            var yaml = await File.ReadAllTextAsync(node.ConfigPath);
            var hosts = $"etcd3:\n  hosts: {endpoint}\n";
            Assert.Contains(hosts, yaml, StringComparison.Ordinal);
            await File.WriteAllTextAsync(node.ConfigPath, yaml.Replace(hosts, hosts + $"  username: {User}\n  password: {UserPassword}\n", StringComparison.Ordinal));
            node.Start();
        }
        await cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(120));
        await Wait.UntilAsync(async () => (await cluster.ReadDcsAsync()).TryGetValue("failsafe", out var f) && cluster.Nodes.All(n => f.Contains($"\"{n.Name}\"")),
            TimeSpan.FromSeconds(30), "the failsafe key to list every member");
        var leader = cluster.Node((await cluster.LeaderAsync())!);
        var replica = cluster.Nodes.Single(n => n != leader);

        // Authentication switched on under running agents: they log in with their etcd3 username/password.
        var mark = cluster.Nodes.ToDictionary(n => n, n => n.Agent!.Output.Length);
        await EtcdctlAsync(endpoint, null, null, "user", "add", "root:" + RootPassword);
        await EtcdctlAsync(endpoint, null, null, "role", "add", User);
        await EtcdctlAsync(endpoint, null, null, "role", "grant-permission", User, "--prefix=true", "readwrite", "/service/");
        await EtcdctlAsync(endpoint, null, null, "user", "add", $"{User}:{UserPassword}");
        await EtcdctlAsync(endpoint, null, null, "user", "grant-role", User, User);
        await EtcdctlAsync(endpoint, null, null, "auth", "enable");
        foreach (var n in cluster.Nodes) await WaitForLogAsync(n, mark[n], "authenticating again", 1, TimeSpan.FromSeconds(30));
        mark[leader] = leader.Agent!.Output.Length;
        await WaitForLogAsync(leader, mark[leader], "the leader with the lock", 2, TimeSpan.FromSeconds(30));
        Assert.DoesNotContain("DCS is not accessible", leader.Agent.Output[mark[leader]..], StringComparison.Ordinal);
        Assert.True(await SafetyHelpers.IsWritablePrimaryAsync(leader));

        // 1. The role is revoked under the agents (failsafe_mode on). The watch cache still serves reads and etcd 3.4 does
        //    not check permissions on lease keepalives, so the lock stays valid; the next write (a member key with a new
        //    xlog_location; writes on the primary make one) is refused even with a fresh token: AuthFailed.
        await AsRootAsync(endpoint, "user", "revoke-role", User, User);
        var denied = await RawRangeAsync(endpoint, User, UserPassword);
        output.WriteLine($"range with a fresh token after the role was revoked: HTTP {denied.Status} {denied.Body}");
        Assert.Contains("permission denied", denied.Body, StringComparison.Ordinal);
        var sw = Stopwatch.StartNew();
        await SafetyHelpers.ScalarAsync(leader, "CREATE TABLE IF NOT EXISTS auth_loss(i int)");
        await Wait.UntilAsync(async () =>
        {
            await SafetyHelpers.ScalarAsync(leader, "INSERT INTO auth_loss VALUES (1) RETURNING i");
            return leader.Agent.Output[mark[leader]..].Contains("DCS is not accessible (AuthFailed)", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(3 * cluster.Spec.Ttl), "the leader to log an AuthFailed DCS error", TimeSpan.FromSeconds(1));
        output.WriteLine($"AuthFailed logged {sw.Elapsed.TotalSeconds:0.0} s after the role was revoked");
        Assert.Contains("DCS is not accessible (AuthFailed): etcd refused user pgwarden with a fresh token", leader.Agent.Output[mark[leader]..], StringComparison.Ordinal);

        // 2. etcd restarts (the watches break): now reads fail too and the DCS is lost as far as the agents can tell.
        //    failsafe_mode: the primary keeps running while the replica confirms it, and the failsafe line says AuthFailed.
        mark[leader] = leader.Agent.Output.Length;
        await cluster.Etcd.RestartAsync(0, CancellationToken.None);
        sw.Restart();
        await WaitForLogAsync(leader, mark[leader], "failsafe: DCS unreachable (AuthFailed)", 1, TimeSpan.FromSeconds(3 * cluster.Spec.Ttl));
        output.WriteLine($"failsafe on AuthFailed logged {sw.Elapsed.TotalSeconds:0.0} s after etcd restarted");
        var hold = TimeSpan.FromSeconds(1.5 * cluster.Spec.Ttl);
        while (sw.Elapsed < hold)
        {
            Assert.True(await SafetyHelpers.IsWritablePrimaryAsync(leader), $"the primary stopped being writable {sw.Elapsed.TotalSeconds:0.0} s into the auth failure with failsafe_mode on");
            await Task.Delay(500);
        }
        Assert.True((await SafetyHelpers.PatroniAsync(leader))["failsafe_mode_is_active"]?.GetValue<bool>() == true, "failsafe_mode_is_active");

        // The role comes back: the agents read again and the leader renews its lock.
        await AsRootAsync(endpoint, "user", "grant-role", User, User);
        mark[leader] = leader.Agent.Output.Length;
        await WaitForLogAsync(leader, mark[leader], "the leader with the lock", 1, TimeSpan.FromSeconds(30));

        // 3. failsafe_mode off, then the user is deleted and etcd restarts: the login fails (AuthFailed, naming the user)
        //    and the primary demotes as for an unreachable DCS.
        using (var http = new HttpClient())
        {
            using var patch = new HttpRequestMessage(HttpMethod.Patch, leader.RestUrl + "/config") { Content = new StringContent("""{"failsafe_mode":false}""") };
            using var r = await http.SendAsync(patch);
            Assert.True(r.IsSuccessStatusCode, $"PATCH /config: {(int)r.StatusCode}");
        }
        // The loop reads the config from the DCS each cycle: two cycles later it runs with failsafe_mode off.
        mark[leader] = leader.Agent.Output.Length;
        await WaitForLogAsync(leader, mark[leader], "the leader with the lock", 2, TimeSpan.FromSeconds(30));
        await AsRootAsync(endpoint, "user", "delete", User);
        var rejected = await RawRangeAsync(endpoint, User, UserPassword);
        output.WriteLine($"login after the user was deleted: HTTP {rejected.Status} {rejected.Body}");
        await cluster.Etcd.RestartAsync(0, CancellationToken.None);
        sw.Restart();
        await Wait.UntilAsync(async () => !await SafetyHelpers.IsWritablePrimaryAsync(leader), TimeSpan.FromSeconds(3 * cluster.Spec.Ttl),
            "the primary to stop being writable once its credentials are refused (failsafe_mode off)");
        output.WriteLine($"primary not writable {sw.Elapsed.TotalSeconds:0.0} s after etcd restarted without the user (ttl {cluster.Spec.Ttl} s)");
        var after = leader.Agent.Output[mark[leader]..];
        Assert.Contains("DCS is not accessible (AuthFailed): etcd authentication as user pgwarden failed", after, StringComparison.Ordinal);
        foreach (var n in cluster.Nodes)
        {
            Assert.DoesNotContain(UserPassword, n.Agent!.Output, StringComparison.Ordinal);
            Assert.False(n.Agent.HasExited, $"{n.Name}'s agent must carry on");
        }
        dump.Passed();
    }
}
