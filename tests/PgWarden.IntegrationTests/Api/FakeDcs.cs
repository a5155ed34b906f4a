using PgWarden.Dcs;

namespace PgWarden.IntegrationTests.Api;

/// <summary>A DCS that only answers reads, with whatever view the test sets; every write is a test bug.</summary>
public sealed class FakeDcs : IDcs
{
    private volatile ClusterView _view = ClusterView.Empty;
    private volatile bool _unreachable;

    public ClusterView View { get => _view; set => _view = value; }
    public bool Unreachable { get => _unreachable; set => _unreachable = value; }

    public Task<ClusterView> GetClusterAsync(CancellationToken ct) =>
        Unreachable ? Task.FromException<ClusterView>(new DcsException(DcsErrorKind.ConnectionRefused, "etcd is down (fake)")) : Task.FromResult(View);

    private static Exception NotForTheApi([System.Runtime.CompilerServices.CallerMemberName] string name = "") =>
        new NotSupportedException($"The read-only REST API must not call IDcs.{name}.");

    public Task<bool> AttemptToAcquireLeaderAsync(CancellationToken ct) => throw NotForTheApi();
    public Task TakeLeaderAsync(CancellationToken ct) => throw NotForTheApi();
    public Task<bool> UpdateLeaderAsync(LeaderKey? current, CancellationToken ct) => throw NotForTheApi();
    public Task<bool> DeleteLeaderAsync(long? lastLsn, CancellationToken ct) => throw NotForTheApi();
    public Task TouchMemberAsync(MemberData data, CancellationToken ct) => throw NotForTheApi();
    public Task<bool> InitializeAsync(bool create, string value, CancellationToken ct) => throw NotForTheApi();
    public Task CancelInitializationAsync(CancellationToken ct) => throw NotForTheApi();
    public Task<bool> SetConfigAsync(string json, long? version, CancellationToken ct) => throw NotForTheApi();
    public Task<bool> SetFailoverAsync(string json, long? version, CancellationToken ct) => throw NotForTheApi();
    public Task<bool> SetSyncAsync(string? json, long? version, CancellationToken ct) => throw NotForTheApi();
    public Task SetHistoryAsync(string json, CancellationToken ct) => throw NotForTheApi();
    public Task WriteStatusAsync(long optime, IReadOnlyDictionary<string, long>? slots, CancellationToken ct) => throw NotForTheApi();
    public Task<bool> WaitForChangeAsync(TimeSpan timeout, CancellationToken ct) => throw NotForTheApi();
    public void Configure(int ttl, int loopWait, int retryTimeout) { }
    public Task ResetSessionAsync(CancellationToken ct) => throw NotForTheApi();
    public Task DeleteClusterAsync(CancellationToken ct) => throw NotForTheApi();
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
