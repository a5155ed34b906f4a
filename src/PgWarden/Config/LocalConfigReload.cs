namespace PgWarden.Config;

/// <summary>
/// What a re-read of the node's YAML file (POST /reload, `pgwarden reload`, SIGHUP) changes in a running agent, as
/// Patroni's reload_config does: tags, postgresql.parameters, pg_hba, pg_ident, callbacks, rewind and clone
/// settings, ctl. What the running processes were built on (name, scope, namespace, DCS section, REST listen,
/// PostgreSQL listen/data_dir/bin_dir, superuser credentials, logging) keeps its running value and is named as
/// needing an agent restart.
/// </summary>
public static class LocalConfigReload
{
    public sealed record Result(AgentConfig Applied, IReadOnlyList<string> Changed, IReadOnlyList<string> NeedRestart);

    public static Result Merge(AgentConfig running, AgentConfig fresh)
    {
        ArgumentNullException.ThrowIfNull(running);
        ArgumentNullException.ThrowIfNull(fresh);
        var old = running.Postgresql;
        var pg = fresh.Postgresql with
        {
            Listen = old.Listen,
            ConnectAddress = old.ConnectAddress,
            DataDir = old.DataDir,
            ConfigDir = old.ConfigDir,
            BinDir = old.BinDir,
            Pgpass = old.Pgpass,
            Database = old.Database,
            Authentication = old.Authentication,
            UseUnixSocket = old.UseUnixSocket,
            UseUnixSocketRepl = old.UseUnixSocketRepl,
        };
        var applied = running with { Tags = fresh.Tags, Postgresql = pg, Ctl = fresh.Ctl };

        var changed = new List<string>();
        if (!SameTags(running.Tags, fresh.Tags)) changed.Add("tags");
        if (!SameMap(old.Parameters, pg.Parameters)) changed.Add("postgresql.parameters");
        if (!old.PgHba.SequenceEqual(pg.PgHba)) changed.Add("postgresql.pg_hba");
        if (!old.PgIdent.SequenceEqual(pg.PgIdent)) changed.Add("postgresql.pg_ident");
        if (!SameMap(old.Callbacks, pg.Callbacks)) changed.Add("postgresql.callbacks");
        if (!SameMap(old.RecoveryConf, pg.RecoveryConf)) changed.Add("postgresql.recovery_conf");
        if (old.UsePgRewind != pg.UsePgRewind) changed.Add("postgresql.use_pg_rewind");
        if (old.RemoveDataDirectoryOnRewindFailure != pg.RemoveDataDirectoryOnRewindFailure) changed.Add("postgresql.remove_data_directory_on_rewind_failure");
        if (old.RemoveDataDirectoryOnDivergedTimelines != pg.RemoveDataDirectoryOnDivergedTimelines) changed.Add("postgresql.remove_data_directory_on_diverged_timelines");
        if (old.PgCtlTimeout != pg.PgCtlTimeout) changed.Add("postgresql.pg_ctl_timeout");
        if (!old.CreateReplicaMethods.SequenceEqual(pg.CreateReplicaMethods) || !old.Basebackup.SequenceEqual(pg.Basebackup)) changed.Add("postgresql.create_replica_methods/basebackup");
        if (running.Ctl != fresh.Ctl) changed.Add("ctl");

        var needRestart = new List<string>();
        void Check(bool differs, string what) { if (differs) needRestart.Add(what); }
        Check(running.Name != fresh.Name, "name");
        Check(running.Scope != fresh.Scope, "scope");
        Check(running.Namespace != fresh.Namespace, "namespace");
        Check(!Equals(running.Etcd3?.Hosts.Count, fresh.Etcd3?.Hosts.Count) || !Equals(running.Etcd?.Hosts.Count, fresh.Etcd?.Hosts.Count)
              || !Equals(running.ZooKeeper?.Hosts.Count, fresh.ZooKeeper?.Hosts.Count)
              || !(running.Etcd3?.Hosts ?? running.Etcd?.Hosts ?? running.ZooKeeper?.Hosts ?? []).SequenceEqual(fresh.Etcd3?.Hosts ?? fresh.Etcd?.Hosts ?? fresh.ZooKeeper?.Hosts ?? []),
            "DCS hosts");
        Check(running.RestApi.Listen != fresh.RestApi.Listen || running.RestApi.ConnectAddress != fresh.RestApi.ConnectAddress
              || running.RestApi.Authentication != fresh.RestApi.Authentication, "restapi");
        Check(old.Listen != fresh.Postgresql.Listen || old.ConnectAddress != fresh.Postgresql.ConnectAddress, "postgresql.listen/connect_address");
        Check(old.DataDir != fresh.Postgresql.DataDir || old.ConfigDir != fresh.Postgresql.ConfigDir || old.BinDir != fresh.Postgresql.BinDir, "postgresql.data_dir/config_dir/bin_dir");
        Check(!SameAuthentication(old.Authentication, fresh.Postgresql.Authentication), "postgresql.authentication");
        return new Result(applied, changed, needRestart);
    }

    private static bool SameAuthentication(PgAuthentication a, PgAuthentication b) =>
        SameUser(a.Superuser, b.Superuser) && SameUser(a.Replication, b.Replication)
        && (a.Rewind is null ? b.Rewind is null : b.Rewind is not null && SameUser(a.Rewind, b.Rewind));

    /// <summary>Records compare dictionaries by reference; compare the users' values.</summary>
    private static bool SameUser(PgUser a, PgUser b) =>
        a with { OtherParameters = b.OtherParameters } == b && SameMap(a.OtherParameters, b.OtherParameters);

    private static bool SameTags(MemberTags a, MemberTags b) =>
        a.Raw.Count == b.Raw.Count
        && a.Raw.All(kv => b.Raw.TryGetValue(kv.Key, out var v) && (v?.ToJsonString() ?? "null") == (kv.Value?.ToJsonString() ?? "null"));

    private static bool SameMap(IReadOnlyDictionary<string, string> a, IReadOnlyDictionary<string, string> b) =>
        a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out var v) && v == kv.Value);
}
