"""The classic official PyTorch tutorials on sequences, transformers and autograd, run unchanged
on torch and on ember (the programs and the oracle as in test_tutorials.py)."""
import math
import string

import numpy as np
import pytest

from tutorial_oracle import numpy_init, rand, randn, run_both

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ----------------------------------------------------------------------------------------------
# 5. Sequence models and LSTMs; NLP from scratch: classifying names with a character-level RNN
# ----------------------------------------------------------------------------------------------

def lstm_tagger(torch, print):
    nn = torch.nn
    F = torch.nn.functional
    optim = torch.optim
    rng = np.random.default_rng(50)

    # LSTM's in PyTorch: a step at a time, then the whole sequence at once
    lstm = nn.LSTM(3, 3)  # Input dim is 3, output dim is 3
    numpy_init(torch, lstm, 51)
    inputs = [randn(torch, rng, 1, 3) for _ in range(5)]  # make a sequence of length 5
    hidden = (randn(torch, rng, 1, 1, 3), randn(torch, rng, 1, 1, 3))
    for i in inputs:
        # Step through the sequence one element at a time.
        out, hidden = lstm(i.view(1, 1, -1), hidden)
    print(out.detach(), hidden[0].shape)
    inputs = torch.cat(inputs).view(len(inputs), 1, -1)
    hidden = (randn(torch, rng, 1, 1, 3), randn(torch, rng, 1, 1, 3))  # clean out hidden state
    out, hidden = lstm(inputs, hidden)
    print(out.detach())
    print(tuple(h.detach() for h in hidden))

    # An LSTM for part-of-speech tagging
    def prepare_sequence(seq, to_ix):
        idxs = [to_ix[w] for w in seq]
        return torch.tensor(idxs, dtype=torch.long)

    training_data = [
        # Tags are: DET - determiner; NN - noun; V - verb
        # For example, the word "The" is a determiner
        ("The dog ate the apple".split(), ["DET", "NN", "V", "DET", "NN"]),
        ("Everybody read that book".split(), ["NN", "V", "DET", "NN"])
    ]
    word_to_ix = {}
    # For each words-list (sentence) and tags-list in each tuple of training_data
    for sent, tags in training_data:
        for word in sent:
            if word not in word_to_ix:  # word has not been assigned an index yet
                word_to_ix[word] = len(word_to_ix)  # Assign each word with a unique index
    print(word_to_ix)
    tag_to_ix = {"DET": 0, "NN": 1, "V": 2}  # Assign each tag with a unique index

    EMBEDDING_DIM = 6
    HIDDEN_DIM = 6

    class LSTMTagger(nn.Module):
        def __init__(self, embedding_dim, hidden_dim, vocab_size, tagset_size):
            super(LSTMTagger, self).__init__()
            self.hidden_dim = hidden_dim
            self.word_embeddings = nn.Embedding(vocab_size, embedding_dim)
            # The LSTM takes word embeddings as inputs, and outputs hidden states
            # with dimensionality hidden_dim.
            self.lstm = nn.LSTM(embedding_dim, hidden_dim)
            # The linear layer that maps from hidden state space to tag space
            self.hidden2tag = nn.Linear(hidden_dim, tagset_size)

        def forward(self, sentence):
            embeds = self.word_embeddings(sentence)
            lstm_out, _ = self.lstm(embeds.view(len(sentence), 1, -1))
            tag_space = self.hidden2tag(lstm_out.view(len(sentence), -1))
            tag_scores = F.log_softmax(tag_space, dim=1)
            return tag_scores

    model = LSTMTagger(EMBEDDING_DIM, HIDDEN_DIM, len(word_to_ix), len(tag_to_ix))
    numpy_init(torch, model, 52)
    print(model)
    loss_function = nn.NLLLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.1)

    # See what the scores are before training
    with torch.no_grad():
        inputs = prepare_sequence(training_data[0][0], word_to_ix)
        tag_scores = model(inputs)
        print(tag_scores)

    losses = []
    for epoch in range(30):  # the tutorial: 300; again, normally you would NOT do 300 epochs
        for sentence, tags in training_data:
            # Step 1. Remember that Pytorch accumulates gradients.
            model.zero_grad()
            # Step 2. Get our inputs ready for the network
            sentence_in = prepare_sequence(sentence, word_to_ix)
            targets = prepare_sequence(tags, tag_to_ix)
            # Step 3. Run our forward pass.
            tag_scores = model(sentence_in)
            # Step 4. Compute the loss, gradients, and update the parameters
            loss = loss_function(tag_scores, targets)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())

    # See what the scores are after training
    with torch.no_grad():
        inputs = prepare_sequence(training_data[0][0], word_to_ix)
        tag_scores = model(inputs)
        # The sentence is "the dog ate the apple".  i,j corresponds to score for tag j
        # for word i. The predicted tag is the maximum scoring tag.
        print(tag_scores)
        print(tag_scores.argmax(1))
    return {"losses": losses, "state": dict(model.state_dict())}


def lstm_grad_fn_names(torch, print):
    """The LSTM section prints `out` and `hidden` straight after a forward with grad on."""
    rng = np.random.default_rng(53)
    lstm = torch.nn.LSTM(3, 3)
    numpy_init(torch, lstm, 51)
    inputs = randn(torch, rng, 5, 1, 3)
    hidden = (randn(torch, rng, 1, 1, 3), randn(torch, rng, 1, 1, 3))
    out, hidden = lstm(inputs, hidden)
    print(out)
    print(hidden)


def char_rnn(torch, print):
    nn = torch.nn
    rng = np.random.default_rng(54)
    all_letters = string.ascii_letters + " .,;'"
    n_letters = len(all_letters)

    # Find letter index from all_letters, e.g. "a" = 0
    def letterToIndex(letter):
        return all_letters.find(letter)

    # Just for demonstration, turn a letter into a <1 x n_letters> Tensor
    def letterToTensor(letter):
        tensor = torch.zeros(1, n_letters)
        tensor[0][letterToIndex(letter)] = 1
        return tensor

    # Turn a line into a <line_length x 1 x n_letters>, or an array of one-hot letter vectors
    def lineToTensor(line):
        tensor = torch.zeros(len(line), 1, n_letters)
        for li, letter in enumerate(line):
            tensor[li][0][letterToIndex(letter)] = 1
        return tensor

    print(letterToTensor("J"))
    print(lineToTensor("Jones").size())

    category_lines = {
        "English": ["Jones", "Smith", "Taylor"],
        "French": ["Dubois", "Lefebvre", "Moreau"],
        "Italian": ["Rossi", "Russo", "Ferrari"],
        "Japanese": ["Sato", "Suzuki", "Takahashi"],
    }
    all_categories = list(category_lines)
    n_categories = len(all_categories)

    class RNN(nn.Module):
        def __init__(self, input_size, hidden_size, output_size):
            super(RNN, self).__init__()
            self.hidden_size = hidden_size
            self.i2h = nn.Linear(input_size + hidden_size, hidden_size)
            self.h2o = nn.Linear(hidden_size, output_size)
            self.softmax = nn.LogSoftmax(dim=1)

        def forward(self, input, hidden):
            combined = torch.cat((input, hidden), 1)
            hidden = torch.tanh(self.i2h(combined))
            output = self.h2o(hidden)
            output = self.softmax(output)
            return output, hidden

        def initHidden(self):
            return torch.zeros(1, self.hidden_size)

    n_hidden = 32   # the tutorial: 128
    rnn = RNN(n_letters, n_hidden, n_categories)
    numpy_init(torch, rnn, 55)
    print(rnn)

    input = lineToTensor("Albert")
    hidden = torch.zeros(1, n_hidden)
    output, next_hidden = rnn(input[0], hidden)
    print(output)

    def categoryFromOutput(output):
        top_n, top_i = output.topk(1)
        category_i = top_i[0].item()
        return all_categories[category_i], category_i

    print(categoryFromOutput(output))

    def randomTrainingExample():   # random.choice, drawn from NumPy
        category = all_categories[rng.integers(n_categories)]
        lines = category_lines[category]
        line = lines[rng.integers(len(lines))]
        category_tensor = torch.tensor([all_categories.index(category)], dtype=torch.long)
        line_tensor = lineToTensor(line)
        return category, line, category_tensor, line_tensor

    criterion = nn.NLLLoss()
    learning_rate = 0.05   # the tutorial: 0.005 over 100000 examples

    def train(category_tensor, line_tensor):
        hidden = rnn.initHidden()
        rnn.zero_grad()
        for i in range(line_tensor.size()[0]):
            output, hidden = rnn(line_tensor[i], hidden)
        loss = criterion(output, category_tensor)
        loss.backward()
        # Add parameters' gradients to their values, multiplied by learning rate
        for p in rnn.parameters():
            p.data.add_(p.grad.data, alpha=-learning_rate)
        return output, loss.item()

    losses = []
    for iter in range(1, 41):
        category, line, category_tensor, line_tensor = randomTrainingExample()
        output, loss = train(category_tensor, line_tensor)
        losses.append(loss)
        if iter % 10 == 0:
            guess, guess_i = categoryFromOutput(output)
            correct = "✓" if guess == category else "✗ (%s)" % category
            print("%d %d%% %.4f %s / %s %s" % (iter, iter / 40 * 100, loss, line, guess,
                                               correct))

    def evaluate(line_tensor):
        hidden = rnn.initHidden()
        for i in range(line_tensor.size()[0]):
            output, hidden = rnn(line_tensor[i], hidden)
        return output

    def predict(input_line, n_predictions=3):
        print("\n> %s" % input_line)
        with torch.no_grad():
            output = evaluate(lineToTensor(input_line))
            # Get top N categories
            topv, topi = output.topk(n_predictions, 1, True)
            for i in range(n_predictions):
                value = topv[0][i].item()
                category_index = topi[0][i].item()
                print("(%.2f) %s" % (value, all_categories[category_index]))

    predict("Dovesky")
    predict("Satoshi")
    return {"losses": losses, "state": dict(rnn.state_dict())}


@pytest.mark.parametrize("program", [lstm_tagger, char_rnn], ids=lambda f: f.__name__)
def test_sequence_models(program):
    run_both(program)


def test_sequence_models_lstm_grad_fn():
    run_both(lstm_grad_fn_names)


# ----------------------------------------------------------------------------------------------
# 6. Language modeling with nn.Transformer (a tiny vocabulary, dropout 0)
# ----------------------------------------------------------------------------------------------

def transformer_lm(torch, print):
    nn = torch.nn
    from_numpy = torch.from_numpy
    Tensor = torch.Tensor
    TransformerEncoder, TransformerEncoderLayer = nn.TransformerEncoder, nn.TransformerEncoderLayer
    device = torch.device("cpu")

    class PositionalEncoding(nn.Module):
        def __init__(self, d_model: int, dropout: float = 0.1, max_len: int = 5000):
            super().__init__()
            self.dropout = nn.Dropout(p=dropout)
            position = torch.arange(max_len).unsqueeze(1)
            div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
            pe = torch.zeros(max_len, 1, d_model)
            pe[:, 0, 0::2] = torch.sin(position * div_term)
            pe[:, 0, 1::2] = torch.cos(position * div_term)
            self.register_buffer("pe", pe)

        def forward(self, x: Tensor) -> Tensor:
            """x: Tensor, shape ``[seq_len, batch_size, embedding_dim]``"""
            x = x + self.pe[:x.size(0)]
            return self.dropout(x)

    class TransformerModel(nn.Module):
        def __init__(self, ntoken: int, d_model: int, nhead: int, d_hid: int,
                     nlayers: int, dropout: float = 0.5):
            super().__init__()
            self.model_type = "Transformer"
            self.pos_encoder = PositionalEncoding(d_model, dropout, max_len=64)
            encoder_layers = TransformerEncoderLayer(d_model, nhead, d_hid, dropout)
            self.transformer_encoder = TransformerEncoder(encoder_layers, nlayers)
            self.embedding = nn.Embedding(ntoken, d_model)
            self.d_model = d_model
            self.linear = nn.Linear(d_model, ntoken)
            self.init_weights()

        def init_weights(self) -> None:
            initrange = 0.1
            self.embedding.weight.data.uniform_(-initrange, initrange)
            self.linear.bias.data.zero_()
            self.linear.weight.data.uniform_(-initrange, initrange)

        def forward(self, src: Tensor, src_mask: Tensor = None) -> Tensor:
            src = self.embedding(src) * math.sqrt(self.d_model)
            src = self.pos_encoder(src)
            if src_mask is None:
                src_mask = nn.Transformer.generate_square_subsequent_mask(len(src)).to(device)
            output = self.transformer_encoder(src, src_mask)
            output = self.linear(output)
            return output

    def generate_square_subsequent_mask(sz: int) -> Tensor:   # the tutorial's older helper
        return torch.triu(torch.ones(sz, sz) * float("-inf"), diagonal=1)

    print(generate_square_subsequent_mask(4))
    print(torch.equal(generate_square_subsequent_mask(6),
                      nn.Transformer.generate_square_subsequent_mask(6)))

    # a token stream with structure (next = 3 * prev + 1 mod ntokens, 20% noise)
    rng = np.random.default_rng(60)
    ntokens = 12
    stream = [0]
    for noise, r in zip(rng.random(400), rng.integers(0, ntokens, 400)):
        stream.append(int(r) if noise < 0.2 else (3 * stream[-1] + 1) % ntokens)
    train_data, val_data = from_numpy(np.array(stream[:320])), from_numpy(np.array(stream[320:]))

    def batchify(data: Tensor, bsz: int) -> Tensor:
        seq_len = data.size(0) // bsz
        data = data[:seq_len * bsz]
        data = data.view(bsz, seq_len).t().contiguous()
        return data.to(device)

    batch_size = 4
    eval_batch_size = 2
    train_data = batchify(train_data, batch_size)  # shape ``[seq_len, batch_size]``
    val_data = batchify(val_data, eval_batch_size)
    print(train_data.shape, val_data.shape, train_data[:2])

    bptt = 16

    def get_batch(source: Tensor, i: int):
        seq_len = min(bptt, len(source) - 1 - i)
        data = source[i:i + seq_len]
        target = source[i + 1:i + 1 + seq_len].reshape(-1)
        return data, target

    emsize = 16  # embedding dimension
    d_hid = 32  # dimension of the feedforward network model in ``nn.TransformerEncoder``
    nlayers = 2  # number of ``nn.TransformerEncoderLayer`` in ``nn.TransformerEncoder``
    nhead = 2  # number of heads in ``nn.MultiheadAttention``
    dropout = 0.0  # dropout probability (the tutorial: 0.2)
    model = TransformerModel(ntokens, emsize, nhead, d_hid, nlayers, dropout).to(device)
    numpy_init(torch, model, 61)
    print(model)
    print([name for name, _ in model.named_buffers()], model.pos_encoder.pe.shape)
    print(model.pos_encoder.pe[:3, 0, :6])

    criterion = nn.CrossEntropyLoss()
    lr = 5.0  # learning rate
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.95)
    losses, norms = [], []

    def train(model: nn.Module) -> None:
        model.train()  # turn on train mode
        total_loss = 0.
        log_interval = 2
        num_batches = len(train_data) // bptt
        for batch, i in enumerate(range(0, train_data.size(0) - 1, bptt)):
            data, targets = get_batch(train_data, i)
            output = model(data)
            output_flat = output.view(-1, ntokens)
            loss = criterion(output_flat, targets)
            optimizer.zero_grad()
            loss.backward()
            norms.append(torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5))
            optimizer.step()
            losses.append(loss.item())
            total_loss += loss.item()
            if batch % log_interval == 0 and batch > 0:
                lr = scheduler.get_last_lr()[0]
                cur_loss = total_loss / log_interval
                ppl = math.exp(cur_loss)
                print(f"| epoch {epoch:3d} | {batch:5d}/{num_batches:5d} batches | "
                      f"lr {lr:02.2f} | loss {cur_loss:5.2f} | ppl {ppl:8.2f}")
                total_loss = 0

    def evaluate(model: nn.Module, eval_data: Tensor) -> float:
        model.eval()  # turn on evaluation mode
        total_loss = 0.
        with torch.no_grad():
            for i in range(0, eval_data.size(0) - 1, bptt):
                data, targets = get_batch(eval_data, i)
                seq_len = data.size(0)
                output = model(data)
                output_flat = output.view(-1, ntokens)
                total_loss += seq_len * criterion(output_flat, targets).item()
        return total_loss / (len(eval_data) - 1)

    epochs = 2
    for epoch in range(1, epochs + 1):
        train(model)
        val_loss = evaluate(model, val_data)
        val_ppl = math.exp(val_loss)
        print("-" * 89)
        print(f"| end of epoch {epoch:3d} | valid loss {val_loss:5.2f} | valid ppl {val_ppl:8.2f}")
        print("-" * 89)
        scheduler.step()
    print(scheduler.get_last_lr(), optimizer.param_groups[0]["lr"], norms[-1])
    print(scheduler.state_dict())
    return {"losses": losses, "norms": norms, "val_loss": val_loss,
            "state": dict(model.state_dict())}


def test_transformer_language_model():
    # (the trained weights drift by up to ~1e-5 in float32: summation orders differ, in GEMMs
    # and attention, and torch's own change with its thread count)
    run_both(transformer_lm, rtol=2e-4, atol=3e-5)


# ----------------------------------------------------------------------------------------------
# 7. A gentle introduction to torch.autograd; autograd mechanics
# ----------------------------------------------------------------------------------------------

def autograd_intro(torch, print):
    nn = torch.nn
    optim = torch.optim
    rng = np.random.default_rng(70)

    # Differentiation in Autograd
    a = torch.tensor([2., 3.], requires_grad=True)
    b = torch.tensor([6., 4.], requires_grad=True)
    Q = 3 * a ** 3 - b ** 2
    print(Q)
    external_grad = torch.tensor([1., 1.])
    Q.backward(gradient=external_grad)
    # check if collected gradients are correct
    print(9 * a ** 2 == a.grad)
    print(-2 * b == b.grad)
    print(a.grad, b.grad)

    # Exclusion from the DAG
    x = rand(torch, rng, 5, 5)
    y = rand(torch, rng, 5, 5)
    z = rand(torch, rng, 5, 5, requires_grad=True)
    a = x + y
    print(f"Does `a` require gradients?: {a.requires_grad}")
    b = x + z
    print(f"Does `b` require gradients?: {b.requires_grad}")

    # Freezing all but a replaced classifier (the tutorial's resnet18, in small)
    class SmallNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
            self.bn1 = nn.BatchNorm2d(8)
            self.pool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(8, 100)

        def forward(self, x):
            x = self.pool(torch.relu(self.bn1(self.conv1(x))))
            return self.fc(torch.flatten(x, 1))

    model = SmallNet()
    numpy_init(torch, model, 71)
    frozen = {k: v.clone() for k, v in model.state_dict().items()}
    # Freeze all the parameters in the network
    for param in model.parameters():
        param.requires_grad = False
    model.fc = nn.Linear(8, 10)
    numpy_init(torch, model.fc, 72)
    print(model)
    print([name for name, p in model.named_parameters() if p.requires_grad])
    # Optimize only the classifier
    optimizer = optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
    data = randn(torch, rng, 4, 3, 16, 16)
    labels = torch.tensor(rng.integers(0, 10, 4))
    losses = []
    for _ in range(3):
        optimizer.zero_grad()
        prediction = model(data)
        loss = (prediction - nn.functional.one_hot(labels, 10)).pow(2).sum()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    print(loss, model.conv1.weight.grad, model.fc.bias.grad)
    print([k for k, v in model.state_dict().items()
           if k in frozen and not k.startswith("fc") and not torch.equal(v, frozen[k])])

    # Higher-order gradients: create_graph=True keeps the derivative differentiable
    x = torch.tensor(2.0, requires_grad=True)
    y = x ** 3
    dy, = torch.autograd.grad(y, x, create_graph=True)
    print(dy, dy.requires_grad)
    d2y, = torch.autograd.grad(dy, x)
    print(d2y)
    w = randn(torch, rng, 3, requires_grad=True)
    f = (w.sin() * w).sum()
    g, = torch.autograd.grad(f, w, create_graph=True)
    h = torch.autograd.grad(g, w, grad_outputs=torch.ones_like(g))[0]
    print(g.detach(), h)

    # Autograd mechanics: requires_grad propagation, grad modes, retain_graph
    x = randn(torch, rng, 5, requires_grad=True)
    y = x.pow(2)
    print(y.requires_grad, y.is_leaf, x.is_leaf, x.grad_fn)
    y.sum().backward(retain_graph=True)
    y.sum().backward()
    print(x.grad, torch.allclose(x.grad, 4 * x))
    with torch.no_grad():
        print(torch.is_grad_enabled(), (x * 2).requires_grad)
    with torch.enable_grad():
        print(torch.is_grad_enabled())
    with torch.inference_mode():
        print((x * 2).requires_grad)
    torch.set_grad_enabled(False)
    print((x * 2).requires_grad)
    torch.set_grad_enabled(True)
    return {"losses": losses, "fc": dict(model.fc.state_dict()), "dy": dy, "h": h}


def test_autograd_tutorial():
    run_both(autograd_intro)


def autograd_saved_tensors(torch, print):
    """Autograd mechanics, "Saved tensors": the saved input or output behind _saved_* and the
    saved-tensor hooks."""
    x = torch.tensor(np.linspace(-1, 1, 5, dtype=np.float32), requires_grad=True)
    y = x.pow(2)
    print(x.equal(y.grad_fn._saved_self), x is y.grad_fn._saved_self)
    y = x.exp()
    print(y.equal(y.grad_fn._saved_result), y is y.grad_fn._saved_result)
    packed = []

    def pack_hook(t):
        packed.append(t.shape)
        return t

    def unpack_hook(t):
        return t * 2

    with torch.autograd.graph.saved_tensors_hooks(pack_hook, unpack_hook):
        z = (x * x).sum()
    z.backward()
    print(packed, x.grad)
    return {"grad": x.grad}


def test_autograd_mechanics_saved_tensors():
    run_both(autograd_saved_tensors)
