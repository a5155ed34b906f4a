using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using PgWarden.Dcs;
using PgWarden.Dcs.Etcd3;

namespace PgWarden.Tests.Dcs;

public sealed class Etcd3WireTests
{
    [Fact]
    public void Prefix_range_end_increments_the_last_byte()
    {
        Assert.Equal(Etcd3Json.ToBase64("/service/batman0"), Etcd3Json.PrefixEndBase64("/service/batman/"));
        Assert.Equal(new byte[] { 0x61, 0x62 }, Etcd3Json.PrefixEnd([0x61, 0x61, 0xff]));
        Assert.Equal(new byte[] { 0 }, Etcd3Json.PrefixEnd([0xff, 0xff]));
    }

    [Fact]
    public void Base64_round_trips_utf8()
    {
        Assert.Equal("L3NlcnZpY2UvYmF0bWFuL2xlYWRlcg==", Etcd3Json.ToBase64("/service/batman/leader"));
        Assert.Equal("nöde", Etcd3Json.FromBase64(Etcd3Json.ToBase64("nöde")));
        Assert.Equal("", Etcd3Json.FromBase64(null));
    }

    [Fact]
    public void Int64_fields_come_as_strings_and_missing_means_zero()
    {
        var kv = Etcd3KeyValue.Parse(JsonNode.Parse("""{"key":"YQ==","create_revision":"2","mod_revision":"9","version":"3","lease":"7587880227371377460"}""")!);
        Assert.Equal(("a", "", 2L, 9L, 3L, 7587880227371377460L), (kv.Key, kv.Value, kv.CreateRevision, kv.ModRevision, kv.Version, kv.Lease));
        var header = Etcd3Header.Parse(JsonNode.Parse("""{"cluster_id":"10955309159033285570","member_id":"5411188850637535873","revision":"3","raft_term":"2"}"""));
        Assert.Equal(10955309159033285570UL, header.ClusterId);
        Assert.Equal(3, header.Revision);
        Assert.Throws<DcsException>(() => Etcd3Json.ReadInt64(JsonValue.Create("x1")));
    }

    [Fact]
    public void Txn_builders_use_the_gateway_field_names()
    {
        var compare = Etcd3Txn.KeyMissing("/s/c/leader").ToJsonString();
        Assert.Equal("""{"key":"L3MvYy9sZWFkZXI=","target":"CREATE","create_revision":"0"}""", compare);
        Assert.Equal("""{"request_put":{"key":"YQ==","value":"Yg==","lease":"42"}}""", Etcd3Txn.Put("a", "b", 42).ToJsonString());
        Assert.Equal("""{"request_put":{"key":"YQ==","value":"Yg=="}}""", Etcd3Txn.Put("a", "b").ToJsonString());
        Assert.Equal("""{"key":"YQ==","target":"MOD","mod_revision":"17"}""", Etcd3Txn.ModRevisionIs("a", 17).ToJsonString());
        Assert.Equal("""{"key":"YQ==","target":"VALUE","value":"bjE="}""", Etcd3Txn.ValueIs("a", "n1").ToJsonString());
        var nested = Etcd3Txn.Nested([Etcd3Txn.KeyMissing("a")], [Etcd3Txn.Delete("a")]).ToJsonString();
        Assert.StartsWith("""{"request_txn":{"compare":[{"key":"YQ==","target":"CREATE","create_revision":"0"}],"success":[{"request_delete_range":{"key":"YQ=="}}]""", nested);
    }

    [Fact]
    public void Txn_result_reads_the_nested_answer()
    {
        var r = Etcd3TxnResult.Parse(JsonNode.Parse("""{"header":{"revision":"5"},"responses":[{"response_txn":{"header":{},"succeeded":true,"responses":[]}}]}""")!);
        Assert.False(r.Succeeded);
        Assert.True(r.NestedSucceeded(0));
        Assert.False(r.NestedSucceeded(1));
    }

    [Fact]
    public void Stream_splitter_handles_any_chunking()
    {
        const string stream = """
            {"result":{"header":{"revision":"2"},"created":true}}
            {"result":{"header":{"revision":"3"},"events":[{"kv":{"key":"YQ==","value":"e30=","mod_revision":"3"}},{"type":"DELETE","kv":{"key":"Yg==","mod_revision":"3"}}]}}{"result":{"header":{"revision":"4"},"events":[{"kv":{"key":"e30i","value":"In19XFwi","mod_revision":"4"}}]}}
            {"result":{"canceled":true,"cancel_reason":"mvcc: required revision has been compacted \"}{\"","compact_revision":"9"}}
            """;
        var bytes = Encoding.UTF8.GetBytes(stream);
        foreach (var chunk in new[] { 1, 2, 7, 64, bytes.Length })
        {
            var splitter = new JsonObjectSplitter();
            var objects = new List<JsonNode>();
            for (var i = 0; i < bytes.Length; i += chunk) objects.AddRange(splitter.Feed(bytes.AsSpan(i, Math.Min(chunk, bytes.Length - i))));
            Assert.Equal(4, objects.Count);
            var responses = objects.Select(o => Etcd3WatchResponse.Parse(o["result"]!)).ToList();
            Assert.True(responses[0].Created);
            Assert.Equal([Etcd3EventType.Put, Etcd3EventType.Delete], responses[1].Events.Select(e => e.Type));
            Assert.Equal("{}", responses[1].Events[0].Kv.Value);
            Assert.Equal("{}\"", responses[2].Events[0].Kv.Key);
            Assert.True(responses[3].Canceled);
            Assert.Equal(9, responses[3].CompactRevision);
        }
    }

    [Fact]
    public async Task Stream_reader_yields_objects_from_a_stream()
    {
        using var ms = new MemoryStream(Encoding.UTF8.GetBytes("""{"a":1}  {"b":[{"c":"}"}]}"""));
        var list = new List<string>();
        await foreach (var o in JsonObjectSplitter.ReadAllAsync(ms, default)) list.Add(o.ToJsonString());
        Assert.Equal(["""{"a":1}""", """{"b":[{"c":"}"}]}"""], list);
    }

    [Fact]
    public void Stream_splitter_rejects_garbage_between_objects()
    {
        var e = Assert.Throws<DcsException>(() => new JsonObjectSplitter().Feed("""{"a":1}x"""u8));
        Assert.Equal(DcsErrorKind.Protocol, e.Kind);
    }

    [Theory]
    [InlineData(HttpStatusCode.ServiceUnavailable, """{"error":"etcdserver: no leader","code":14,"message":"etcdserver: no leader"}""", DcsErrorKind.NoLeader, Etcd3Recovery.NextEndpoint)]
    [InlineData(HttpStatusCode.OK, """{"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader","http_status":"Service Unavailable"}}""", DcsErrorKind.NoLeader, Etcd3Recovery.NextEndpoint)]
    [InlineData(HttpStatusCode.ServiceUnavailable, """{"error":"etcdserver: request timed out","message":"etcdserver: request timed out","code":14}""", DcsErrorKind.Timeout, Etcd3Recovery.NextEndpoint)]
    [InlineData(HttpStatusCode.InternalServerError, """{"error":"context deadline exceeded","message":"context deadline exceeded","code":2}""", DcsErrorKind.Timeout, Etcd3Recovery.NextEndpoint)]
    [InlineData(HttpStatusCode.ServiceUnavailable, """{"error":"etcdserver: not a primary lessor","code":14}""", DcsErrorKind.NoLeader, Etcd3Recovery.NextEndpoint)]
    [InlineData(HttpStatusCode.ServiceUnavailable, """{"error":"etcdserver: server stopped","code":14}""", DcsErrorKind.NoLeader, Etcd3Recovery.NextEndpoint)]
    [InlineData(HttpStatusCode.NotFound, """{"error":"etcdserver: requested lease not found","message":"etcdserver: requested lease not found","code":5}""", DcsErrorKind.LeaseNotFound, Etcd3Recovery.Fail)]
    [InlineData(HttpStatusCode.BadRequest, """{"error":"etcdserver: authentication failed, invalid user ID or password","code":3}""", DcsErrorKind.AuthFailed, Etcd3Recovery.Fail)]
    [InlineData(HttpStatusCode.Unauthorized, """{"error":"etcdserver: invalid auth token","message":"etcdserver: invalid auth token","code":16}""", DcsErrorKind.AuthFailed, Etcd3Recovery.Reauthenticate)]
    [InlineData(HttpStatusCode.BadRequest, """{"error":"etcdserver: user name is empty","code":3}""", DcsErrorKind.AuthFailed, Etcd3Recovery.Reauthenticate)]
    // Recorded from etcd 3.4.23's gateway by Safety/EtcdAuthLossTests (role revoked; user deleted) and Dcs/Etcd3TlsAuthTests (token expired).
    [InlineData(HttpStatusCode.Forbidden, """{"error":"etcdserver: permission denied","message":"etcdserver: permission denied","code":7}""", DcsErrorKind.AuthFailed, Etcd3Recovery.Reauthenticate)]
    [InlineData(HttpStatusCode.BadRequest, """{"error":"etcdserver: authentication failed, invalid user ID or password","message":"etcdserver: authentication failed, invalid user ID or password","code":3}""", DcsErrorKind.AuthFailed, Etcd3Recovery.Fail)]
    [InlineData(HttpStatusCode.BadRequest, """{"error":"etcdserver: revision of auth store is old","code":3}""", DcsErrorKind.AuthFailed, Etcd3Recovery.Reauthenticate)]
    [InlineData(HttpStatusCode.BadRequest, """{"error":"invalid character 'b' looking for beginning of object key string","code":3}""", DcsErrorKind.Protocol, Etcd3Recovery.Fail)]
    [InlineData(HttpStatusCode.NotFound, "404 page not found", DcsErrorKind.Protocol, Etcd3Recovery.Fail)]
    [InlineData(HttpStatusCode.BadRequest, """{"error":"etcdserver: key is not provided","code":3}""", DcsErrorKind.Other, Etcd3Recovery.Fail)]
    public void Gateway_error_bodies_are_classified(HttpStatusCode status, string body, DcsErrorKind kind, Etcd3Recovery recovery)
    {
        var e = Etcd3ErrorClassifier.ClassifyBody(status, body);
        Assert.Equal(kind, e.Kind);
        Assert.Equal(recovery, e.Recovery);
    }

    [Fact]
    public void A_tls_failure_says_why_not_just_see_inner_exception()
    {
        var e = new HttpRequestException("The SSL connection could not be established, see inner exception.",
            new System.Security.Authentication.AuthenticationException("The remote certificate is invalid because of errors in the certificate chain: PartialChain"));
        var error = Etcd3ErrorClassifier.ClassifyTransport(e, perRequestTimeoutFired: false);
        Assert.Equal("The SSL connection could not be established: The remote certificate is invalid because of errors in the certificate chain: PartialChain", error.Message);
    }

    [Fact]
    public void Transport_errors_are_classified()
    {
        var refused = new HttpRequestException("x", new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionRefused));
        Assert.Equal(DcsErrorKind.ConnectionRefused, Etcd3ErrorClassifier.ClassifyTransport(refused, false).Kind);
        Assert.Equal(DcsErrorKind.Timeout, Etcd3ErrorClassifier.ClassifyTransport(new TaskCanceledException(), true).Kind);
        Assert.Equal(Etcd3Recovery.NextEndpoint, Etcd3ErrorClassifier.ClassifyTransport(new IOException("reset"), false).Recovery);
    }

    [Theory]
    [InlineData("3.4.0", "/v3")]
    [InlineData("3.5.9", "/v3")]
    [InlineData("3.3.11", "/v3beta")]
    [InlineData("3.2.0", "/v3alpha")]
    [InlineData("4.0.0", "/v3")]
    public void Api_prefix_follows_the_cluster_version(string version, string prefix) =>
        Assert.Equal(prefix, Etcd3Client.ApiPrefixFor(version));

    [Theory]
    [InlineData("127.0.0.21:2379", "http://127.0.0.21:2379")]
    [InlineData("127.0.0.21", "http://127.0.0.21:2379")]
    [InlineData("http://etcd1:2379/", "http://etcd1:2379")]
    [InlineData("https://etcd1", "https://etcd1:2379")]
    public void Endpoints_are_normalised(string given, string expected) => Assert.Equal(expected, Etcd3Client.NormalizeEndpoint(given));
}
