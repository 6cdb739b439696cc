//! Maps a build's Dockerfile steps to the layers of the image it produced.
//!
//! The image history lists the target stage's chain, oldest first, each
//! entry with the instruction BuildKit recorded (`RUN /bin/sh -c cargo ...
//! # buildkit`) and its layer's diff id. Steps are matched to entries by
//! instruction text, walking both backwards from the end, so steps of other
//! stages (a planner's `COPY . .`) are never given the target's layers.

use crate::engine::HistoryEntry;
use crate::progress::Step;

/// For each step of `steps` (by index) that made a layer in the final image,
/// that layer's diff id. Only steps of the `target` stage are considered
/// (the last stage printed when there is no target).
pub fn map_layers(steps: &[Step], target: Option<&str>, history: &[HistoryEntry]) -> Vec<(usize, String)> {
    let stage = target
        .map(str::to_owned)
        .or_else(|| steps.iter().filter(|s| s.vertex > 0).max_by_key(|s| s.vertex)?.stage.clone());
    let mut chain: Vec<usize> =
        (0..steps.len()).filter(|&i| steps[i].stage.as_deref() == stage.as_deref() && steps[i].vertex > 0).collect();
    chain.sort_by_key(|&i| steps[i].index.unwrap_or(0));

    let mut mapped = Vec::new();
    let mut end = history.len();
    for &i in chain.iter().rev() {
        let wanted = normalize(&steps[i].instruction);
        let Some(at) = history[..end].iter().rposition(|h| normalize(&h.created_by) == wanted) else {
            continue;
        };
        end = at;
        if let Some(layer) = &history[at].layer {
            mapped.push((i, layer.clone()));
        }
    }
    mapped.reverse();
    mapped
}

/// An instruction reduced to what both progress and history agree on:
/// no shell prefix, no `# buildkit` comment, no `--flags`, single spaces.
fn normalize(instruction: &str) -> String {
    let text = instruction.trim();
    let text = text.strip_suffix("# buildkit").unwrap_or(text);
    let mut words: Vec<&str> = Vec::new();
    let mut tokens = text.split_whitespace().peekable();
    while let Some(word) = tokens.next() {
        if word.starts_with("--") {
            continue;
        }
        // `/bin/sh -c` (history of RUN) and the `|N` argument count older
        // builders put before RUN's build args.
        if word == "/bin/sh" && tokens.peek() == Some(&"-c") {
            tokens.next();
            continue;
        }
        if word.starts_with('|') && word[1..].chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        words.push(word);
    }
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::parse_reader;

    fn entry(created_by: &str, layer: Option<&str>) -> HistoryEntry {
        HistoryEntry { created_by: created_by.into(), layer: layer.map(Into::into), comment: None }
    }

    #[test]
    fn normalize_agrees_on_progress_and_history_forms() {
        assert_eq!(
            normalize("RUN /bin/sh -c cargo chef cook --release --recipe-path recipe.json # buildkit"),
            normalize("RUN cargo chef cook --release --recipe-path recipe.json")
        );
        assert_eq!(
            normalize("COPY --from=planner /app/recipe.json recipe.json # buildkit"),
            "COPY /app/recipe.json recipe.json"
        );
        assert_eq!(normalize("RUN |1 X=1 /bin/sh -c make"), "RUN X=1 make");
    }

    #[test]
    fn only_the_target_stage_gets_layers() {
        let log = "\
#1 [planner 1/2] COPY . .
#1 DONE 0.1s
#2 [planner 2/2] RUN cargo chef prepare --recipe-path recipe.json
#2 DONE 0.3s
#3 [builder 1/3] COPY --from=planner /app/recipe.json recipe.json
#3 CACHED
#4 [builder 2/3] RUN cargo chef cook --release --recipe-path recipe.json
#4 CACHED
#5 [builder 3/3] COPY . .
#5 DONE 0.1s
";
        let build = parse_reader(log.as_bytes()).unwrap().remove(0);
        let history = [
            entry("/bin/sh -c #(nop) ADD file:abc in /", Some("sha256:base")),
            entry("WORKDIR /app", None),
            entry("COPY /app/recipe.json recipe.json # buildkit", Some("sha256:recipe")),
            entry("RUN /bin/sh -c cargo chef cook --release --recipe-path recipe.json # buildkit", Some("sha256:cook")),
            entry("COPY . . # buildkit", Some("sha256:src")),
        ];
        let mapped = map_layers(&build.steps, Some("builder"), &history);
        let named: Vec<(String, &str)> = mapped.iter().map(|(i, l)| (build.steps[*i].name(), l.as_str())).collect();
        assert_eq!(
            named,
            [
                ("[builder 1/3] COPY --from=planner /app/recipe.json recipe.json".to_owned(), "sha256:recipe"),
                ("[builder 2/3] RUN cargo chef cook --release --recipe-path recipe.json".to_owned(), "sha256:cook"),
                ("[builder 3/3] COPY . .".to_owned(), "sha256:src"),
            ]
        );
    }
}
