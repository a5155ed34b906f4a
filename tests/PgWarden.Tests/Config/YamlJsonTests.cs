using System.Text.Json.Nodes;
using PgWarden.Config;

namespace PgWarden.Tests.Config;

public class YamlJsonTests
{
    // The config key recorded from Patroni 3.0.2 (patroni-recorded/dcs-etcd3-after-bootstrap.json) ...
    private const string RecordedConfigKey = """
        {"ttl": 10, "loop_wait": 2, "retry_timeout": 3, "maximum_lag_on_failover": 1048576,
         "postgresql": {"use_pg_rewind": true, "use_slots": true,
           "parameters": {"wal_level": "replica", "hot_standby": "on", "max_connections": 100, "shared_buffers": "128MB",
                          "max_wal_senders": 10, "max_replication_slots": 10, "wal_keep_size": "128MB", "wal_log_hints": "on"}}}
        """;

    // ... and what `patronictl show-config` printed for it (patroni-recorded/patronictl-before-switchover.txt;
    // click.echo adds the blank line after the YAML).
    private const string RecordedShowConfig = """
        loop_wait: 2
        maximum_lag_on_failover: 1048576
        postgresql:
          parameters:
            hot_standby: 'on'
            max_connections: 100
            max_replication_slots: 10
            max_wal_senders: 10
            shared_buffers: 128MB
            wal_keep_size: 128MB
            wal_level: replica
            wal_log_hints: 'on'
          use_pg_rewind: true
          use_slots: true
        retry_timeout: 3
        ttl: 10

        """;

    [Fact]
    public void ToYaml_ReproducesRecordedShowConfig()
    {
        var yaml = YamlJson.ToYaml(JsonNode.Parse(RecordedConfigKey)!);
        Assert.Equal(RecordedShowConfig.Replace("\r\n", "\n"), yaml);
    }

    [Fact]
    public void ShowConfigYaml_ReadsBackToTheSameJson()
    {
        var original = JsonNode.Parse(RecordedConfigKey)!;
        var roundTrip = YamlJson.FromYaml(YamlJson.ToYaml(original));
        Assert.True(JsonNode.DeepEquals(original, roundTrip), roundTrip?.ToJsonString());
    }

    // Expected strings produced by PyYAML 6.0 yaml.safe_dump(x, default_flow_style=False, allow_unicode=True,
    // width=200), exactly as patronictl 3.0.2 calls it.
    public static TheoryData<string, string> PyYamlGolden => new()
    {
        {
            """{"a":"on","b":"yes","c":"123","d":"1.5","e":"","f":"null","g":"~","h":"2001-12-14","i":"0x1F","j":"1e5","k":"1_000","l":"10:30"}""",
            "a: 'on'\nb: 'yes'\nc: '123'\nd: '1.5'\ne: ''\nf: 'null'\ng: '~'\nh: '2001-12-14'\ni: '0x1F'\nj: 1e5\nk: '1_000'\nl: '10:30'\n"
        },
        {
            """{"s":"hello world","t":"a: b","u":"- x","v":"#c","w":"x #y","x":"x#y","y":" lead","z":"trail ","q":"it's","r":"tab\there","n":"über","m":"*star","p":"@at","o":"a,b","colon":"a:b","pct":"%x"}""",
            "colon: a:b\nm: '*star'\nn: über\no: a,b\np: '@at'\npct: '%x'\nq: it's\nr: \"tab\\there\"\ns: hello world\nt: 'a: b'\nu: '- x'\nv: '#c'\nw: 'x #y'\nx: x#y\ny: ' lead'\nz: 'trail '\n"
        },
        {
            """{"list":["a",{"b":1,"c":[1,2]},[3,4],[],{}],"empty":{},"nums":[1,-2,0.5,1e20,1e-5,100.0,1.25e16],"bools":[true,false,null]}""",
            "bools:\n- true\n- false\n- null\nempty: {}\nlist:\n- a\n- b: 1\n  c:\n  - 1\n  - 2\n- - 3\n  - 4\n- []\n- {}\nnums:\n- 1\n- -2\n- 0.5\n- 1.0e+20\n- 1.0e-05\n- 100.0\n- 1.25e+16\n"
        },
        {
            """{"multi":"line1\nline2","host replication replicator 127.0.0.1/32 md5":"x"}""",
            "host replication replicator 127.0.0.1/32 md5: x\nmulti: 'line1\n\n  line2'\n"
        },
        { """[{"a":1},"b"]""", "- a: 1\n- b\n" },
        { "\"abc\"", "abc\n...\n" },
        { "\"on\"", "'on'\n" },
        { "{}", "{}\n" },
        { "[]", "[]\n" },
    };

    [Theory]
    [MemberData(nameof(PyYamlGolden))]
    public void ToYaml_MatchesPyYamlSafeDump(string json, string expected)
    {
        Assert.Equal(expected, YamlJson.ToYaml(JsonNode.Parse(json)));
    }

    public static TheoryData<string, string> Typing => new()
    {
        // YAML value -> the JSON PyYAML's safe_load (and so Patroni) makes of it
        { "v: 30", "30" },
        { "v: '30'", "\"30\"" },
        { "v: \"30\"", "\"30\"" },
        { "v: on", "true" },
        { "v: 'on'", "\"on\"" },
        { "v: Off", "false" },
        { "v: yes", "true" },
        { "v: true", "true" },
        { "v: ~", "null" },
        { "v:", "null" },
        { "v: null", "null" },
        { "v: 0.9", "0.9" },
        { "v: 1e5", "\"1e5\"" },
        { "v: 1.0e+5", "100000.0" },
        { "v: 2.5", "2.5" },
        { "v: 0755", "493" },
        { "v: 0x10", "16" },
        { "v: 1_000", "1000" },
        { "v: 1:30", "90" },
        { "v: 128MB", "\"128MB\"" },
        { "v: 2001-12-14", "\"2001-12-14\"" },
        { "v: !!str 5", "\"5\"" },
        { "v: |\n  text\n", "\"text\\n\"" },
        { "v: [a, 1, 'b']", "[\"a\",1,\"b\"]" },
        { "v: {x: 1}", "{\"x\":1}" },
        { "v: 127.0.0.1:2379", "\"127.0.0.1:2379\"" },
    };

    [Theory]
    [MemberData(nameof(Typing))]
    public void FromYaml_TypesScalarsLikePyYaml(string yaml, string expectedJson)
    {
        var value = YamlJson.FromYaml(yaml)!["v"];
        Assert.Equal(expectedJson, value?.ToJsonString() ?? "null");
    }

    [Fact]
    public void FromYaml_AppliesMergeKeys()
    {
        var json = YamlJson.FromYaml("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\n")!;
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"x":1,"y":3}"""), json["other"]), json["other"]!.ToJsonString());
    }

    [Fact]
    public void FromYaml_InvalidYaml_ThrowsNamingTheLine()
    {
        var e = Assert.Throws<ConfigException>(() => YamlJson.FromYaml("a: 1\nb: c: d\n"));
        Assert.Contains("invalid YAML at line 2", e.Message);
        Assert.Throws<ConfigException>(() => YamlJson.FromYaml("a: [1, 2\nb: 3\n"));
    }
}
