using System.Text.Json;
using System.Text.Json.Nodes;

namespace PgWarden.Config;

/// <summary>
/// `pgwarden validate-config FILE`: checks beyond parsing that need the file system or cross-key rules.
/// Each message names the key, the value and what is expected; an empty list means the configuration is valid.
/// </summary>
public static class ConfigValidator
{
    public static IReadOnlyList<string> Validate(AgentConfig config)
    {
        var errors = new List<string>();
        void Add(string? error)
        {
            if (error is not null) errors.Add(error);
        }

        Add(HostPort.Check("restapi.listen", config.RestApi.Listen));
        Add(HostPort.Check("restapi.connect_address", config.RestApi.ConnectAddress));
        Add(HostPort.Check("postgresql.listen", config.Postgresql.Listen));
        Add(HostPort.Check("postgresql.connect_address", config.Postgresql.ConnectAddress));
        foreach (var host in config.Etcd3?.Hosts ?? []) Add(HostPort.Check("etcd3.hosts", host));
        foreach (var host in config.Etcd?.Hosts ?? []) Add(HostPort.Check("etcd.hosts", host));
        foreach (var host in config.ZooKeeper?.Hosts ?? []) Add(HostPort.Check("zookeeper.hosts", host));

        ValidateBootstrapDcs(config.Bootstrap?.DcsJson, errors);
        Add(CheckDataDir("postgresql.data_dir", config.Postgresql.DataDir));
        if (!string.IsNullOrEmpty(config.Postgresql.ConfigDir) && config.Postgresql.ConfigDir != config.Postgresql.DataDir)
            Add(CheckDataDir("postgresql.config_dir", config.Postgresql.ConfigDir));
        Add(CheckBinDir(config.Postgresql.BinDir));

        var tags = config.Tags.Raw;
        if (tags.ContainsKey("nofailover") && tags.ContainsKey("failover_priority"))
            errors.Add("tags: set at most one of nofailover and failover_priority");
        if (tags.ContainsKey("nosync") && tags.ContainsKey("sync_priority"))
            errors.Add("tags: set at most one of nosync and sync_priority");
        foreach (var name in new[] { "failover_priority", "sync_priority" })
            if (tags.TryGetValue(name, out var p) && !IsNonNegativeInt(p))
                errors.Add($"tags.{name}: '{DynamicConfigParser.Text(p)}' is not an integer >= 0");
        foreach (var name in new[] { "nofailover", "clonefrom", "noloadbalance", "nosync", "nostream" })
            if (tags.TryGetValue(name, out var b) && b is not null && DynamicConfigParser.ParseBool(b) is null)
                errors.Add($"tags.{name}: '{DynamicConfigParser.Text(b)}' is not a boolean");

        if (config.Postgresql.PgCtlTimeout <= 0)
            errors.Add($"postgresql.pg_ctl_timeout: {config.Postgresql.PgCtlTimeout} is not a positive number of seconds");
        if (config.RestApi.VerifyClient != "none" && string.IsNullOrEmpty(config.RestApi.CertFile))
            errors.Add($"restapi.verify_client: '{config.RestApi.VerifyClient}' needs restapi.certfile (client certificates only work over TLS)");
        if (!string.IsNullOrEmpty(config.RestApi.KeyFile) && string.IsNullOrEmpty(config.RestApi.CertFile))
            errors.Add("restapi.keyfile: set without restapi.certfile");
        foreach (var (key, path) in new[]
                 {
                     ("restapi.certfile", config.RestApi.CertFile), ("restapi.keyfile", config.RestApi.KeyFile),
                     ("restapi.cafile", config.RestApi.CaFile), ("etcd3.cacert", config.Etcd3?.CaCert),
                     ("etcd3.cert", config.Etcd3?.Cert), ("etcd3.key", config.Etcd3?.Key),
                     ("etcd.cacert", config.Etcd?.CaCert), ("etcd.cert", config.Etcd?.Cert), ("etcd.key", config.Etcd?.Key),
                 })
        {
            if (!string.IsNullOrEmpty(path) && !File.Exists(path)) errors.Add($"{key}: file '{path}' does not exist");
        }
        return errors;
    }

    private static void ValidateBootstrapDcs(string? dcsJson, List<string> errors)
    {
        if (string.IsNullOrEmpty(dcsJson)) return;
        if (JsonNode.Parse(dcsJson) is not JsonObject dcs)
        {
            errors.Add("bootstrap.dcs: expected a mapping");
            return;
        }
        try
        {
            DynamicConfigParser.Parse(dcs, new List<string>());
        }
        catch (ConfigException e)
        {
            errors.Add("bootstrap.dcs." + e.Message);
            return;
        }
        foreach (var error in DynamicConfigParser.ValidateStrict(dcs, timingRelation: false))
        {
            var message = "bootstrap.dcs." + error;
            // Parameter messages start with the parameter name; give them their full key.
            if (dcs["postgresql"]?["parameters"] is JsonObject p && p.Any(kv => error.StartsWith(kv.Key + ":", StringComparison.Ordinal)))
                message = "bootstrap.dcs.postgresql.parameters." + error;
            if (!errors.Contains(message)) errors.Add(message);
        }
    }

    /// <summary>
    /// An existing directory must be readable and writable by the current user; a missing one must be creatable,
    /// i.e. its nearest existing ancestor is a writable directory. Access is probed, not derived from mode bits,
    /// so it is right for root and for ACLs too.
    /// </summary>
    public static string? CheckDataDir(string key, string path)
    {
        if (string.IsNullOrWhiteSpace(path)) return $"{key}: is empty, expected a directory path";
        var full = Path.GetFullPath(path);
        if (File.Exists(full)) return $"{key}: '{path}' is a file, expected a directory";
        if (Directory.Exists(full))
        {
            if (!CanList(full)) return $"{key}: directory '{path}' is not readable by the current user";
            if (!CanWrite(full)) return $"{key}: directory '{path}' is not writable by the current user";
            return null;
        }
        var parent = Path.GetDirectoryName(full);
        while (parent is not null && !Directory.Exists(parent))
        {
            if (File.Exists(parent)) return $"{key}: '{path}' cannot be created: '{parent}' is a file, not a directory";
            parent = Path.GetDirectoryName(parent);
        }
        if (parent is null) return $"{key}: '{path}' cannot be created: no existing parent directory";
        if (!CanWrite(parent)) return $"{key}: '{path}' cannot be created: parent directory '{parent}' is not writable by the current user";
        return null;
    }

    private static bool CanList(string dir)
    {
        try
        {
            using var e = Directory.EnumerateFileSystemEntries(dir).GetEnumerator();
            e.MoveNext();
            return true;
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            return false;
        }
    }

    private static bool CanWrite(string dir)
    {
        var probe = Path.Combine(dir, $".pgwarden-write-test-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            using (File.Create(probe, 1, FileOptions.DeleteOnClose)) { }
            return true;
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            return false;
        }
    }

    private static string? CheckBinDir(string binDir)
    {
        if (string.IsNullOrEmpty(binDir)) return null;
        if (!Directory.Exists(binDir)) return $"postgresql.bin_dir: directory '{binDir}' does not exist";
        var pgCtl = Path.Combine(binDir, "pg_ctl");
        if (!File.Exists(pgCtl)) return $"postgresql.bin_dir: '{binDir}' does not contain pg_ctl";
        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(pgCtl) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) == 0)
            return $"postgresql.bin_dir: '{pgCtl}' is not executable";
        return null;
    }

    private static bool IsNonNegativeInt(JsonNode? node) => node switch
    {
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => long.TryParse(v.ToJsonString(), out var l) && l >= 0,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => long.TryParse(v.GetValue<string>(), out var l) && l >= 0,
        _ => false,
    };
}
