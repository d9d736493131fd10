# The shipped default model's recipe: one place for its flags, sourced by run.sh and device.sh.
# MODEL_FLAGS: the student's architecture (pretrain.py takes the same, so its encoder fits).
# STUDENT_FLAGS: train_student.py's recipe, less --tokens (TRAIN_TOKENS) and --threads.
MODEL_FLAGS="--dim 256 --layers 2 --heads 4 --hidden-dim 1024"
STUDENT_FLAGS="--multi-repeat 2 --source-floor 8000 $MODEL_FLAGS --lr 1e-3 --budget 8192 --eval-tokens 10 --eval-min 0 --f16"
