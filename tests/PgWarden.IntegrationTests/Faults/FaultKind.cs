namespace PgWarden.IntegrationTests.Faults;

/// <summary>What the fault suite can do to a running cluster. Every fault that is not self-healing is undone after its hold time.</summary>
public enum FaultKind
{
    /// <summary>kill -9 of the primary's agent; the agent is started again after the hold (a supervisor's restart).</summary>
    KillPrimaryAgent,
    /// <summary>kill -9 of the primary's postmaster; the agent is left to deal with it.</summary>
    KillPrimaryPostmaster,
    /// <summary>kill -9 of the primary's agent, postmaster and backends; the agent is started again after the hold.</summary>
    KillPrimaryBoth,
    /// <summary>SIGSTOP of the primary's agent for longer than ttl, then SIGCONT.</summary>
    StopPrimaryAgent,
    /// <summary>SIGSTOP of the primary's postmaster for longer than ttl, then SIGCONT.</summary>
    StopPrimaryPostmaster,
    /// <summary>iptables: the primary cannot reach any etcd member (and its open etcd connections go dead).</summary>
    PartitionPrimaryFromEtcd,
    /// <summary>iptables: the primary and the replicas cannot reach each other's PostgreSQL and REST API.</summary>
    PartitionPrimaryFromReplicas,
    /// <summary>iptables: both of the above.</summary>
    PartitionPrimaryFromAll,
    /// <summary>kill -9 of one etcd member of three, restarted after the hold.</summary>
    LoseOneEtcdMember,
    /// <summary>kill -9 of two etcd members of three (no quorum), restarted after the hold.</summary>
    LoseEtcdQuorum,
    /// <summary>SIGTERM of a replica's agent (it stops PostgreSQL cleanly), started again after the hold.</summary>
    RestartReplica,
    /// <summary>POST /switchover to a named replica while the clients write.</summary>
    Switchover,
}
