using Microsoft.Extensions.Logging;
using PgWarden.Config;
using PgWarden.Dcs.Etcd3;
using PgWarden.Dcs.EtcdV2;
using PgWarden.Dcs.ZooKeeper;

namespace PgWarden.Dcs;

/// <summary>
/// Builds the DCS client a configuration names. With several DCS sections the first in Patroni's module order
/// wins: etcd, etcd3, zookeeper.
/// </summary>
public static class DcsFactory
{
    /// <summary>The store the configuration selects.</summary>
    public static DcsKind KindOf(AgentConfig config) =>
        config.Etcd is not null ? DcsKind.Etcd
        : config.Etcd3 is not null ? DcsKind.Etcd3
        : config.ZooKeeper is not null ? DcsKind.ZooKeeper
        : throw new ConfigException("etcd3", "no DCS section is configured (expected etcd3:, etcd: or zookeeper:)");

    public static IDcs ForAgent(AgentConfig config, DynamicConfig dynamic, TimeProvider time, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger("PgWarden.Dcs");
        IDcs dcs = KindOf(config) switch
        {
            DcsKind.Etcd => new EtcdV2Dcs(EtcdV2(config.Etcd!), config.Namespace, config.Scope, config.Name, time, logger),
            DcsKind.ZooKeeper => new ZooKeeperDcs(ZooKeeper(config.ZooKeeper!, dynamic.Ttl, dynamic.LoopWait, time, loggers),
                config.Namespace, config.Scope, config.Name, time, logger),
            _ => new Etcd3Dcs(Client(config, dynamic.RetryTimeout, time, loggers), config.Namespace, config.Scope, config.Name, time, logger),
        };
        dcs.Configure(dynamic.Ttl, dynamic.LoopWait, dynamic.RetryTimeout);
        return dcs;
    }

    /// <summary>The control commands read linearizably, hold no lease and run no watch.</summary>
    public static IDcs ForCli(AgentConfig config, TimeProvider time, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger("PgWarden.Dcs");
        return KindOf(config) switch
        {
            DcsKind.Etcd => EtcdV2Dcs.ForCli(EtcdV2(config.Etcd!), config.Namespace, config.Scope, time, logger),
            DcsKind.ZooKeeper => ZooKeeperDcs.ForCli(ZooKeeper(config.ZooKeeper!, 30, 10, time, loggers), config.Namespace, config.Scope, time, logger),
            _ => Etcd3Dcs.ForCli(Client(config, 10, time, loggers), config.Namespace, config.Scope, time, logger),
        };
    }

    private static EtcdV2Client EtcdV2(EtcdConfig etcd) =>
        new(etcd.Hosts.Select(h => h.Contains("://", StringComparison.Ordinal) ? h : $"{etcd.Protocol}://{h}").ToList(),
            etcd.Username, etcd.Password, $"PgWarden/{AgentVersion.Current}");

    /// <summary>Session timeout = ttl and connect timeout = max(1, loop_wait/2) s, as Patroni sets kazoo up.</summary>
    private static ZooKeeperClient ZooKeeper(ZooKeeperConfig zk, int ttl, int loopWait, TimeProvider time, ILoggerFactory loggers) =>
        new(new ZooKeeperClientOptions
        {
            Hosts = zk.Hosts,
            SessionTimeout = TimeSpan.FromSeconds(ttl),
            ConnectTimeout = TimeSpan.FromSeconds(Math.Max(1.0, loopWait / 2.0)),
        }, time, loggers.CreateLogger("PgWarden.Dcs.ZooKeeper"));

    private static Etcd3Client Client(AgentConfig config, int retryTimeout, TimeProvider time, ILoggerFactory loggers)
    {
        var etcd = config.Etcd3 ?? throw new ConfigException("etcd3", "etcd3: no DCS section is configured (expected an etcd3: section with hosts)");
        return new Etcd3Client(new Etcd3ClientOptions
        {
            Endpoints = etcd.Hosts.Select(h => h.Contains("://", StringComparison.Ordinal) ? h : $"{etcd.Protocol}://{h}").ToList(),
            Username = etcd.Username,
            Password = etcd.Password,
            RetryTimeout = TimeSpan.FromSeconds(retryTimeout),
            UserAgent = $"PgWarden/{AgentVersion.Current}",
            CaCertFile = etcd.CaCert,
            CertFile = etcd.Cert,
            KeyFile = etcd.Key,
        }, time, loggers.CreateLogger("PgWarden.Dcs.Etcd3"));
    }
}
