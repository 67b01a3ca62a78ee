# bash completion for greenml(1): subcommands, their flags and the values
# of the flags that take a fixed set. Installed as
# share/bash-completion/completions/greenml (loaded on demand by the
# bash-completion package); without it: source this file. Needs nothing but
# bash itself. Model names come from `greenml models --json`.

_greenml_models() {
  "${COMP_WORDS[0]}" models --json 2>/dev/null |
    grep -o '"name":"[^"]*"' | cut -d'"' -f4
}

_greenml() {
  local cur=${COMP_WORDS[COMP_CWORD]}
  local prev=${COMP_WORDS[COMP_CWORD - 1]}
  local commands="measure idle sources monitor exporter mark runs merge data
    models train infer bench report analyze estimate export"
  local meter="--interval --cpu-tdp --dimm-capacitance --dmidecode --no-gpu
    --gpus"
  local cost="--region --carbon-intensity --pue --price --currency"
  local results="--db --run $cost"
  COMPREPLY=()

  # The subcommand: the first word after `greenml` (no flag comes before it).
  local i cmd=${COMP_WORDS[1]}
  if [ "$COMP_CWORD" -le 1 ]; then
    mapfile -t COMPREPLY < <(compgen -W "$commands --help --version" -- "$cur")
    return
  fi

  # measure ... -- CMD ARGS: complete the command like the shell does.
  if [ "$cmd" = measure ]; then
    for ((i = 2; i < COMP_CWORD; i++)); do
      [ "${COMP_WORDS[i]}" = -- ] || continue
      if declare -F _command_offset >/dev/null; then
        _command_offset $((i + 1))
      elif [ $((i + 1)) -eq "$COMP_CWORD" ]; then
        mapfile -t COMPREPLY < <(compgen -c -- "$cur")
      else
        compopt -o default 2>/dev/null
      fi
      return
    done
  fi

  # Values of flags.
  local words=""
  case $prev in
  --json)
    # A path for measure; a switch elsewhere.
    if [ "$cmd" = measure ]; then
      compopt -o default 2>/dev/null
      return
    fi
    ;;
  --db | --csv | --dmidecode | --checkpoint | --weights)
    compopt -o default 2>/dev/null
    return
    ;;
  --out)
    if [ "$cmd" = export ]; then
      mapfile -t COMPREPLY < <(compgen -W "-" -- "$cur"; compgen -d -- "$cur")
    else
      compopt -o default 2>/dev/null
    fi
    return
    ;;
  --dir | --figures | --checkpoint-dir | --slurm-dir)
    mapfile -t COMPREPLY < <(compgen -d -- "$cur")
    return
    ;;
  --data)
    mapfile -t COMPREPLY < <(
      compgen -W synthetic -- "$cur"
      compgen -d -- "$cur"
    )
    return
    ;;
  --model) words=$(_greenml_models) ;;
  --models) words="all $(_greenml_models)" ;;
  --batch-sizes) words="paper" ;;
  --precision) words="fp32 bf16" ;;
  --precisions) words="fp32 bf16 fp32,bf16" ;;
  --backend) words="onednn ref" ;;
  --format) words="csv json" ;;
  --what) words="phases samples all" ;;
  --schedule) words="constant cosine" ;;
  --idle)
    case $cmd in
    measure | exporter) words="auto none" ;;
    *) words="none" ;;
    esac
    ;;
  --interval | --cpu-tdp | --dimm-capacitance | --region | \
    --carbon-intensity | --pue | --price | --currency | --tag | --duration | \
    --refresh | --limit | --epochs | --batch-size | --lr | --seed | \
    --threads | --limit-batches | --samples | --infer-samples | --gap | \
    --run-id | --profile-epochs | --run | --epoch-samples | --url | --md5 | \
    --train-per-batch | --test | --max-filesize | --connect-timeout | \
    --speed-limit | --speed-time | --listen)
    return
    ;;
  esac
  if [ -n "$words" ]; then
    mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
    return
  fi

  local opts=""
  case $cmd in
  measure)
    opts="--idle --force-busy --db --no-db --json --csv --tag --quiet --cgroup -- $cost $meter"
    ;;
  idle) opts="--duration --db --no-db --show --force-busy $meter" ;;
  sources) opts="--json $meter" ;;
  monitor) opts="--refresh --duration $meter" ;;
  exporter) opts="--listen --idle --db --attribute $meter" ;;
  mark) opts="--end" ;;
  runs) opts="--db --json --limit" ;;
  merge)
    # OUT.db IN.db...: files
    if [[ $cur != -* ]]; then
      compopt -o default 2>/dev/null
      return
    fi
    opts="--json"
    ;;
  data)
    if [ "$COMP_CWORD" -eq 2 ]; then
      mapfile -t COMPREPLY < <(compgen -W "fetch synth check --help" -- "$cur")
      return
    fi
    case ${COMP_WORDS[2]} in
    fetch)
      if [ "$COMP_CWORD" -eq 3 ]; then
        mapfile -t COMPREPLY < <(compgen -W "cifar10" -- "$cur")
        return
      fi
      opts="--dir --url --md5 --max-filesize --connect-timeout --speed-limit
        --speed-time"
      ;;
    synth) opts="--dir --seed --train-per-batch --test" ;;
    check) opts="--dir" ;;
    esac
    ;;
  models) opts="--json --model --params" ;;
  train)
    opts="--model --epochs --batch-size --lr --seed --data --threads --backend
      --engine --device --precision --checkpoint --resume --limit-batches
      --schedule"
    ;;
  infer)
    opts="--model --samples --batch-size --weights --data --seed --threads
      --backend --engine --device --precision"
    ;;
  bench)
    opts="--models --epochs --batch-sizes --precisions --infer-samples --lr
      --seed --data
      --limit-batches --idle --gap --db --run-id --resume --threads --backend
      --checkpoint-dir --no-meter --overhead --profile-epochs --verify --quick
      --engine --device --schedule --cell --slurm --slurm-dir --partition
      --time --slurm-opt --submit $meter"
    ;;
  report) opts="--out --figures --gross --from-run $results" ;;
  analyze) opts="--json --net --gross --from-run --attributed $results" ;;
  estimate)
    opts="--model --epochs --samples --batch-size --epoch-samples --json
      --from-run --phases --profile --total $results"
    ;;
  export) opts="--format --what --out --from-run $results" ;;
  *) return ;;
  esac
  mapfile -t COMPREPLY < <(compgen -W "$opts --help" -- "$cur")
}

complete -F _greenml greenml
