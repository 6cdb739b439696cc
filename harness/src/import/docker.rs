//! Docker command lines to the scenario's typed commands.
//!
//! `docker build` (with its flags), `docker buildx build`, `pull`, `push`,
//! `login` and `run` become the typed commands a scenario runs; `tag` and
//! informational commands stay shell lines (understood, no warning).
//! Anything else is kept as a shell line, with the reason, so the caller
//! can warn.

use super::plan::{Build, Cmd, RunPlan};
use super::shell::{Env, Simple};

/// What one command of a script line became.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Read {
    Cmd {
        cmd: Cmd,
        comments: Vec<String>,
    },
    Run(RunPlan),
    /// `export NAME=value` / `NAME=value`: changes the variables in scope.
    Assign(Vec<(String, String)>),
    /// Dropped on purpose (a builder switch the run replaces), with why.
    Skip(String),
    /// Kept as a shell line; `Some(reason)` when that is worth a warning.
    Shell(Option<String>),
}

/// Commands that only print or set up the shell: kept, never warned about.
const HARMLESS: &[&str] =
    &["echo", "printf", "true", ":", "set", "env", "printenv", "pwd", "ls", "cat", "date", "whoami", "uname", "id"];

/// Docker subcommands that only print.
const INFORMATIONAL: &[&str] = &[
    "info",
    "version",
    "images",
    "ps",
    "system",
    "buildx ls",
    "buildx inspect",
    "buildx version",
    "buildx du",
    "image ls",
    "image inspect",
    "inspect",
    "history",
];

/// Reads one command (after `&&`/`;` splitting).
pub(crate) fn read(simple: &Simple, env: &Env) -> Read {
    if let Some(login) = piped_login(simple) {
        return login;
    }
    let Some(words) = simple.words() else {
        return Read::Shell(Some("a pipe the importer does not read".into()));
    };
    let texts: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
    if let Some(assign) = assignments(&texts) {
        return assign;
    }
    // `DOCKER_BUILDKIT=1 docker build ...`: the prefix is the harness's own.
    let start = texts.iter().take_while(|t| assignment(t).is_some()).count();
    let (words, texts) = (&words[start..], &texts[start..]);
    match texts.first() {
        Some(&"docker") => {}
        Some(first) if HARMLESS.contains(first) => return Read::Shell(None),
        Some(first) => return Read::Shell(Some(format!("`{first}` is not a docker command"))),
        None => return Read::Shell(None),
    }
    if let Some(unknown) = words.iter().flat_map(|w| &w.unresolved).next() {
        return Read::Shell(Some(format!("`${unknown}` is not defined in the CI file, so the command cannot be read")));
    }
    if !simple.redirects.iter().all(|r| r == "2>&1" || r.ends_with("/dev/null")) {
        return Read::Shell(Some("its output is redirected to a file".into()));
    }
    docker(&texts[1..], env)
}

fn docker(args: &[&str], env: &Env) -> Read {
    let args = skip_global_flags(args);
    let (sub, rest) = match args {
        ["image" | "builder", sub, rest @ ..] if ["build", "pull", "push", "tag"].contains(sub) => (*sub, rest),
        ["buildx", "build" | "b", rest @ ..] => ("buildx build", rest),
        ["buildx", sub, ..] => {
            return match *sub {
                "create" | "use" | "rm" | "stop" => {
                    Read::Skip(format!("`docker buildx {sub}`: the scenario builds with the daemon's default builder"))
                }
                _ if INFORMATIONAL.contains(&format!("buildx {sub}").as_str()) => Read::Shell(None),
                _ => Read::Shell(Some(format!("`docker buildx {sub}` has no typed command"))),
            }
        }
        [sub, rest @ ..] => (*sub, rest),
        [] => return Read::Shell(Some("`docker` without a subcommand".into())),
    };
    match sub {
        "build" => build(rest, false, env),
        "buildx build" => build(rest, true, env),
        "pull" => one_image(rest, Cmd::Pull, &["--platform"], &["-q", "--quiet", "--disable-content-trust"]),
        "push" => one_image(rest, Cmd::Push, &["--platform"], &["-q", "--quiet", "--disable-content-trust"]),
        "login" => login(rest),
        "run" => run(rest),
        "tag" => Read::Shell(None),
        _ if INFORMATIONAL.contains(&sub) => Read::Shell(None),
        _ => Read::Shell(Some(format!("`docker {sub}` has no typed command"))),
    }
}

/// Drops `docker -H tcp://docker:2375 --tls ...`: the harness points the CLI
/// at the job's daemon itself.
fn skip_global_flags<'a, 'b>(mut args: &'a [&'b str]) -> &'a [&'b str] {
    loop {
        match args {
            ["-H" | "--host" | "--config" | "--context" | "-c" | "--log-level" | "-l", _, rest @ ..] => args = rest,
            [flag, rest @ ..] if flag.starts_with("--tls") || flag.starts_with("--host=") || *flag == "-D" => {
                args = rest
            }
            _ => return args,
        }
    }
}

/// `NAME=value ...` alone on a line, or after `export`.
fn assignments(texts: &[&str]) -> Option<Read> {
    let body = match texts {
        ["export", rest @ ..] => rest,
        _ if texts.iter().all(|t| assignment(t).is_some()) => texts,
        _ => return None,
    };
    let pairs = body.iter().map(|t| assignment(t)).collect::<Option<Vec<_>>>()?;
    Some(Read::Assign(pairs))
}

fn assignment(text: &str) -> Option<(String, String)> {
    let (name, value) = text.split_once('=')?;
    let valid = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    valid.then(|| (name.to_owned(), value.to_owned()))
}

/// `echo "$PASSWORD" | docker login -u user --password-stdin registry`.
fn piped_login(simple: &Simple) -> Option<Read> {
    let [feed, login_words] = simple.stages.as_slice() else { return None };
    let feeds = matches!(feed.first().map(|w| w.text.as_str()), Some("echo" | "printf" | "cat"));
    let texts: Vec<&str> = login_words.iter().map(|w| w.text.as_str()).collect();
    match skip_global_flags(&texts) {
        ["docker", rest @ ..] if feeds => match skip_global_flags(rest) {
            ["login", args @ ..] => Some(login(args)),
            _ => None,
        },
        _ => None,
    }
}

fn login(args: &[&str]) -> Read {
    let mut username = None;
    let mut comments = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let (flag, inline) = split_flag(args[i]);
        match flag {
            "-u" | "--username" => {
                username = inline.map(str::to_owned).or_else(|| args.get(i + 1).map(|s| s.to_string()));
                i += usize::from(inline.is_none());
            }
            "-p" | "--password" => {
                comments.push("the CI file's password is not copied: the run's registry takes the scenario's".into());
                i += usize::from(inline.is_none());
            }
            "--password-stdin" => {}
            registry if !registry.starts_with('-') && registry != "{registry}" => {
                comments.push(format!("was a login to `{registry}`: the run's registry stands for it"));
            }
            _ => {}
        }
        i += 1;
    }
    // A username that is a secret or a CI variable stays the harness's own.
    let username = username.filter(|u| !u.contains('$') && !u.contains('{'));
    Read::Cmd { cmd: Cmd::Login { username }, comments }
}

fn one_image(args: &[&str], make: fn(String) -> Cmd, value_flags: &[&str], bool_flags: &[&str]) -> Read {
    let mut image = None;
    let mut i = 0;
    while i < args.len() {
        let (flag, inline) = split_flag(args[i]);
        if value_flags.contains(&flag) {
            i += usize::from(inline.is_none());
        } else if bool_flags.contains(&flag) {
        } else if flag.starts_with('-') {
            return Read::Shell(Some(format!("option `{flag}` has no place in a typed command")));
        } else if image.replace(args[i].to_owned()).is_some() {
            return Read::Shell(Some("more than one image".into()));
        }
        i += 1;
    }
    match image {
        Some(image) => Read::Cmd { cmd: make(image), comments: Vec::new() },
        None => Read::Shell(Some("no image named".into())),
    }
}

/// `docker run [harmless flags] IMAGE [COMMAND...]` becomes a run check.
fn run(args: &[&str]) -> Read {
    let mut comments = Vec::new();
    let mut i = 0;
    while i < args.len() && args[i].starts_with('-') {
        let (flag, inline) = split_flag(args[i]);
        match flag {
            "--rm" | "-t" | "-i" | "-it" | "-ti" | "--init" | "--tty" | "--interactive" => {}
            "--network" | "--net" | "--name" | "--pull" => {
                comments.push(format!("`{}` dropped: the check runs the image with `docker run --rm`", args[i]));
                i += usize::from(inline.is_none());
            }
            other => return Read::Shell(Some(format!("`docker run {other}` is more than a run check can say"))),
        }
        i += 1;
    }
    let Some(image) = args.get(i) else {
        return Read::Shell(Some("`docker run` without an image".into()));
    };
    let command = args[i + 1..].iter().map(|s| s.to_string()).collect();
    Read::Run(RunPlan { image: image.to_string(), command, comments })
}

/// `--flag=value` to (`--flag`, Some(value)); anything else to (it, None).
fn split_flag(arg: &str) -> (&str, Option<&str>) {
    match arg.split_once('=') {
        Some((flag, value)) if flag.starts_with("--") => (flag, Some(value)),
        _ => (arg, None),
    }
}

/// Build flags that take a value and go to `extra_args` as written.
const BUILD_VALUE_FLAGS: &[&str] = &[
    "--platform",
    "--label",
    "--network",
    "--secret",
    "--ssh",
    "--iidfile",
    "--metadata-file",
    "--output",
    "-o",
    "--add-host",
    "--shm-size",
    "--ulimit",
    "--build-context",
    "--annotation",
    "--attest",
    "--no-cache-filter",
    "--cgroup-parent",
    "--memory",
    "-m",
    "--isolation",
    "--allow",
    "--call",
    "--security-opt",
];
/// Build flags without a value that go to `extra_args`.
const BUILD_BOOL_FLAGS: &[&str] =
    &["--push", "--load", "--pull", "--no-cache", "--rm", "--force-rm", "--squash", "--compress", "--check"];

fn build(args: &[&str], buildx: bool, env: &Env) -> Read {
    let mut b = Build { buildx, ..Build::default() };
    let mut comments = Vec::new();
    let mut contexts = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let (flag, inline) = split_flag(args[i]);
        let takes_value = matches!(
            flag,
            "-t" | "--tag"
                | "-f"
                | "--file"
                | "--target"
                | "--cache-from"
                | "--cache-to"
                | "--build-arg"
                | "--progress"
                | "--builder"
        ) || BUILD_VALUE_FLAGS.contains(&flag);
        if !flag.starts_with('-') || flag == "-" {
            contexts.push(args[i].to_owned());
            i += 1;
            continue;
        }
        let value = if takes_value {
            let value = inline.map(str::to_owned).or_else(|| args.get(i + 1).map(|s| s.to_string()));
            i += usize::from(inline.is_none());
            match value {
                Some(v) => v,
                None => return Read::Shell(Some(format!("`{flag}` without a value"))),
            }
        } else {
            String::new()
        };
        i += 1;
        match flag {
            "-t" | "--tag" => b.tags.push(value),
            "-f" | "--file" => b.file = Some(value),
            "--target" => b.target = Some(value),
            "--cache-from" => b.cache_from.push(value),
            "--cache-to" => b.cache_to.push(value),
            "--build-arg" => build_arg(&mut b, &value, env, &mut comments),
            "--progress" => {}
            "--builder" => comments.push(format!("`--builder {value}` dropped: the daemon's default builder runs it")),
            "-q" | "--quiet" => comments.push("`--quiet` dropped: the harness reads the build's progress".into()),
            _ if takes_value => b.extra_args.extend([flag.to_owned(), value]),
            _ if BUILD_BOOL_FLAGS.contains(&flag) => b.extra_args.push(args[i - 1].to_owned()),
            other => return Read::Shell(Some(format!("unknown build option `{other}`"))),
        }
    }
    match contexts.as_slice() {
        [context] if context == "-" || context.contains("://") || context.starts_with("git@") => {
            Read::Shell(Some(format!("the build context `{context}` is not a folder of the repository")))
        }
        [context] => {
            b.context = normalize_context(context);
            if b.cache_to.iter().any(|c| !c.contains("type=inline")) && !b.buildx {
                b.buildx = true;
                comments.push(
                    "`--cache-to` needs buildx: run as `docker buildx build` (what `docker build` is on engines 23+)"
                        .into(),
                );
            }
            Read::Cmd { cmd: Cmd::Build(b), comments }
        }
        [] => Read::Shell(Some("no build context".into())),
        _ => Read::Shell(Some("more than one build context".into())),
    }
}

fn build_arg(b: &mut Build, value: &str, env: &Env, comments: &mut Vec<String>) {
    let (name, value) = match value.split_once('=') {
        Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
        // `--build-arg NAME` takes the value from the environment.
        None => (value.to_owned(), env.get(value).map(str::to_owned)),
    };
    match (name.as_str(), value) {
        ("BUILDKIT_INLINE_CACHE", Some(v)) if v == "1" || v == "true" => b.inline_cache = true,
        (_, Some(v)) => {
            b.build_args.insert(name, v);
        }
        (_, None) => {
            comments.push(format!("`--build-arg {name}` has no value in the CI file: passed as written"));
            b.extra_args.extend(["--build-arg".to_owned(), name]);
        }
    }
}

/// `./`, `$CI_PROJECT_DIR` (mapped to `.`) and trailing slashes away.
pub(crate) fn normalize_context(context: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in context.split('/') {
        match part {
            "" | "." => {}
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::shell::{sequence, tokenize};

    fn read_line(line: &str) -> Read {
        let mut env = Env::default();
        env.set("CI_REGISTRY_IMAGE", "{image}");
        env.set("VERSION", "1.2");
        let seq = sequence(tokenize(line, &env).unwrap());
        assert_eq!(seq.len(), 1, "{line}");
        read(&seq[0], &env)
    }

    fn build_of(line: &str) -> Build {
        match read_line(line) {
            Read::Cmd { cmd: Cmd::Build(b), .. } => b,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn classic_build_with_the_seed_flags() {
        let b = build_of("docker build --target chef --cache-from $CI_REGISTRY_IMAGE:chef --tag $CI_REGISTRY_IMAGE:chef --build-arg BUILDKIT_INLINE_CACHE=1 .");
        assert!(!b.buildx && b.inline_cache);
        assert_eq!((b.target.as_deref(), b.context.as_str()), (Some("chef"), "."));
        assert_eq!(
            (b.tags.as_slice(), b.cache_from.as_slice()),
            (&["{image}:chef".to_owned()][..], &["{image}:chef".to_owned()][..])
        );
    }

    #[test]
    fn buildx_build_options() {
        let b = build_of("docker buildx build --push --platform=linux/amd64 -f docker/Dockerfile --build-arg V=$VERSION --build-arg BUILDKIT_INLINE_CACHE=1 --cache-to type=registry,ref=x,mode=max --progress plain -t a:1 ./app/");
        assert!(b.buildx && b.inline_cache);
        assert_eq!(b.file.as_deref(), Some("docker/Dockerfile"));
        assert_eq!(b.context, "app");
        assert_eq!(b.build_args.get("V").map(String::as_str), Some("1.2"));
        assert_eq!(b.extra_args, ["--push", "--platform", "linux/amd64"]);
        assert_eq!(b.cache_to, ["type=registry,ref=x,mode=max"]);
    }

    #[test]
    fn classic_build_with_cache_to_becomes_buildx() {
        match read_line("DOCKER_BUILDKIT=1 docker build --cache-to type=registry,ref=x .") {
            Read::Cmd { cmd: Cmd::Build(b), comments } => {
                assert!(b.buildx);
                assert!(comments[0].contains("buildx"), "{comments:?}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn pull_push_login_run_tag() {
        assert_eq!(
            read_line("docker pull $CI_REGISTRY_IMAGE:chef || true"),
            Read::Cmd { cmd: Cmd::Pull("{image}:chef".into()), comments: vec![] }
        );
        assert_eq!(
            read_line("docker -H tcp://docker:2375 push x:1"),
            Read::Cmd { cmd: Cmd::Push("x:1".into()), comments: vec![] }
        );
        match read_line("docker login -u $CI_REGISTRY_USER -p $CI_REGISTRY_PASSWORD $CI_REGISTRY") {
            Read::Shell(Some(reason)) => assert!(reason.contains("CI_REGISTRY_USER"), "{reason}"),
            other => panic!("{other:?}"),
        }
        match read_line("echo \"$TOKEN\" | docker login -u ci --password-stdin ghcr.io") {
            Read::Cmd { cmd: Cmd::Login { username }, comments } => {
                assert_eq!(username.as_deref(), Some("ci"));
                assert!(comments[0].contains("ghcr.io"));
            }
            other => panic!("{other:?}"),
        }
        match read_line("docker run --network=host --rm $CI_REGISTRY_IMAGE:builder cargo test") {
            Read::Run(run) => assert_eq!((run.image.as_str(), run.command.len()), ("{image}:builder", 2)),
            other => panic!("{other:?}"),
        }
        assert_eq!(read_line("docker tag a b"), Read::Shell(None));
        assert!(matches!(read_line("docker run -v /x:/y img"), Read::Shell(Some(_))));
    }

    #[test]
    fn assignments_skips_and_unknowns() {
        assert_eq!(read_line("export TAG=$VERSION"), Read::Assign(vec![("TAG".into(), "1.2".into())]));
        assert!(matches!(read_line("docker buildx create --use"), Read::Skip(_)));
        assert!(matches!(read_line("apk add git"), Read::Shell(Some(_))));
        assert_eq!(read_line("echo hi"), Read::Shell(None));
        assert!(matches!(read_line("docker build - < Dockerfile"), Read::Shell(Some(_))));
        assert!(matches!(read_line("docker build --frobnicate ."), Read::Shell(Some(_))));
    }
}
